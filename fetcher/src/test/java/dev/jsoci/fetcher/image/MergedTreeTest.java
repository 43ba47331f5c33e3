package dev.jsoci.fetcher.image;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.CompressionAlgorithm;
import dev.jsoci.ztoc.EntryNotFoundException;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.TocIndex;
import dev.jsoci.ztoc.Ztoc;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MergedTreeTest {
  /** Makes a layer from "TYPE NAME [LINK]" lines, in tar order. */
  private static LayerTree layer(String... lines) throws IOException {
    List<TocEntry> entries = new ArrayList<>();
    long offset = 512;
    for (String line : lines) {
      String[] parts = line.split(" ");
      EntryType type = EntryType.fromWireName(parts[0]);
      entries.add(
          new TocEntry(
              ByteString.utf8(parts[1]),
              type,
              offset,
              type == EntryType.REGULAR ? 10 : 0,
              ByteString.utf8(parts.length > 2 ? parts[2] : ""),
              0644,
              0,
              0,
              ByteString.EMPTY,
              ByteString.EMPTY,
              TocEntry.ZERO_TIME,
              0,
              0,
              List.of()));
      offset += 1024;
    }
    Ztoc ztoc =
        new Ztoc(
            "0.9",
            "test",
            0,
            offset,
            entries,
            CompressionAlgorithm.GZIP,
            0,
            List.of(),
            new byte[0]);
    return LayerTree.of(TocIndex.of(ztoc, "test"));
  }

  private static MergedTree tree(LayerTree... topFirst) {
    return new MergedTree(topFirst.length, i -> topFirst[i]);
  }

  private static void assertNotFound(MergedTree tree, String path) {
    assertThrows(EntryNotFoundException.class, () -> tree.resolve(path), path);
  }

  @Test
  void resolve_upperLayerWins() throws IOException {
    MergedTree tree = tree(layer("reg ./etc/a"), layer("dir ./etc/", "reg ./etc/a", "reg ./etc/b"));

    assertThat(tree.resolve("/etc/a").layer()).isEqualTo(0);
    assertThat(tree.resolve("etc/b").layer()).isEqualTo(1);
  }

  @Test
  void resolve_whiteoutHidesLowerFileAndDirectory() throws IOException {
    MergedTree tree =
        tree(
            layer("reg etc/.wh.a", "reg .wh.var"),
            layer("reg etc/a", "reg etc/b", "dir var/", "reg var/log"));

    assertNotFound(tree, "etc/a");
    assertNotFound(tree, "var/log");
    assertNotFound(tree, "var");
    assertThat(tree.resolve("etc/b").layer()).isEqualTo(1);
  }

  @Test
  void resolve_opaqueDirectoryHidesLowerContents() throws IOException {
    MergedTree tree =
        tree(
            layer("dir etc/", "reg etc/.wh..wh..opq", "reg etc/new"),
            layer("reg etc/old", "reg other"));

    assertNotFound(tree, "etc/old");
    assertThat(tree.resolve("etc/new").layer()).isEqualTo(0);
    assertThat(tree.resolve("other").layer()).isEqualTo(1);
  }

  @Test
  void resolve_implicitParentOverLowerSymlink_hidesIt() throws IOException {
    // As containerd's unpack: lib/newfile without lib/ makes lib a directory of the upper layer.
    MergedTree tree =
        tree(
            layer("reg lib/newfile"),
            layer("dir usr/", "dir usr/lib/", "reg usr/lib/libc.so.6", "symlink lib usr/lib"));

    assertThat(tree.resolve("/lib/newfile").layer()).isEqualTo(0);
    assertThat(tree.resolve("/usr/lib/libc.so.6").layer()).isEqualTo(1);
    assertNotFound(tree, "/lib/libc.so.6");
  }

  @Test
  void resolve_whiteoutEntriesAreInvisible() throws IOException {
    MergedTree tree = tree(layer("reg etc/.wh.a"), layer("reg etc/x"));

    assertNotFound(tree, "etc/.wh.a");
    assertNotFound(tree, "etc/.wh..wh..opq");
  }

  @Test
  void resolve_fileInUpperLayerShadowsLowerDirectory() throws IOException {
    MergedTree tree = tree(layer("reg data"), layer("dir data/", "reg data/inner"));

    assertNotFound(tree, "data/inner");
  }

  @Test
  void resolve_followsSymlinksInParentsAndLast() throws IOException {
    MergedTree tree =
        tree(
            layer("symlink lib usr/lib", "symlink usr/lib/current.so libc.so.6"),
            layer("dir usr/lib/", "reg usr/lib/libc.so.6"));

    MergedTree.Found found = tree.resolve("/lib/current.so");

    assertThat(found.layer()).isEqualTo(1);
    assertThat(found.entry().name().utf8()).isEqualTo("usr/lib/libc.so.6");
  }

  @Test
  void resolve_symlinksNeverLeaveTheImage() throws IOException {
    MergedTree tree =
        tree(layer("symlink up ../../../..", "symlink abs /etc", "dir etc/", "reg etc/passwd"));

    assertThat(tree.resolve("up/etc/passwd").entry().name().utf8()).isEqualTo("etc/passwd");
    assertThat(tree.resolve("abs/passwd").entry().name().utf8()).isEqualTo("etc/passwd");
  }

  @Test
  void resolve_symlinkLoop_isReported() throws IOException {
    MergedTree tree = tree(layer("symlink a b", "symlink b a"));

    EntryNotFoundException e =
        assertThrows(EntryNotFoundException.class, () -> tree.resolve("a/file"));

    assertThat(e).hasMessageThat().isEqualTo("path \"a/file\": too many levels of symbolic links");
  }

  @Test
  void resolve_hardLinkGivesTargetEntry() throws IOException {
    MergedTree tree = tree(layer("reg bin/busybox", "hardlink bin/sh bin/busybox"));

    assertThat(tree.resolve("bin/sh").entry().name().utf8()).isEqualTo("bin/busybox");
  }

  @Test
  void resolve_implicitParentDirectories() throws IOException {
    MergedTree tree = tree(layer("reg a/b/c"));

    assertThat(tree.resolve("a/b/c").entry().type()).isEqualTo(EntryType.REGULAR);
    assertNotFound(tree, "a/x/c");
  }

  @Test
  void resolve_fileAsDirectory_isNotADirectory() throws IOException {
    MergedTree tree = tree(layer("reg a"));

    EntryNotFoundException e =
        assertThrows(EntryNotFoundException.class, () -> tree.resolve("a/b"));

    assertThat(e).hasMessageThat().isEqualTo("path \"a/b\": \"a\" is not a directory");
  }

  @Test
  void resolve_topLayerFile_loadsOnlyTopLayer() throws IOException {
    LayerTree top = layer("reg app/main");
    LayerTree bottom = layer("reg etc/passwd");
    List<Integer> loads = new ArrayList<>();
    MergedTree tree =
        new MergedTree(
            2,
            i -> {
              loads.add(i);
              return i == 0 ? top : bottom;
            });

    tree.resolve("app/main");

    assertThat(loads).containsExactly(0);
  }
}
