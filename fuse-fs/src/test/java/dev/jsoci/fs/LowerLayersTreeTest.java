package dev.jsoci.fs;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fs.TocEntryBuilder.directory;
import static dev.jsoci.fs.TocEntryBuilder.entry;
import static dev.jsoci.fs.TocEntryBuilder.file;
import static dev.jsoci.fs.TocEntryBuilder.hardLink;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.TocEntry;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Trees of layers that leave out parent directories, built over the layers below them. */
class LowerLayersTreeTest {
  private static final String LAYER = "sha256:upper";

  private static LayerTree tree(Map<String, LowerLayers.Entry> lowers, TocEntry... entries)
      throws InvalidLayerException {
    TreeBuilder builder =
        new TreeBuilder(LAYER, path -> lowers.getOrDefault(path.utf8(), LowerLayers.Entry.ABSENT));
    for (TocEntry entry : entries) {
      builder.add(entry, 0);
    }
    return builder.build();
  }

  private static Node node(LayerTree tree, String path) {
    return tree.find(ByteString.utf8(path)).orElseThrow(() -> new AssertionError("no " + path));
  }

  @Test
  void implicitParent_takesLowerDirectoryAttributes() throws Exception {
    LayerTree tree =
        tree(
            Map.of(
                "tmp", LowerLayers.Entry.directory(01777, 0, 0, 1_600_000_000L, 5),
                "home/app", LowerLayers.Entry.directory(0700, 1000, 1001, 1_700_000_000L, 0)),
            file("tmp/.keep"),
            file("home/app/config"));

    Node tmp = node(tree, "tmp");
    Node app = node(tree, "home/app");
    Node home = node(tree, "home");
    assertThat(tmp.mode()).isEqualTo(041777);
    assertThat(tmp.mtimeSeconds()).isEqualTo(1_600_000_000L);
    assertThat(tmp.mtimeNanos()).isEqualTo(5);
    assertThat(app.mode()).isEqualTo(040700);
    assertThat(app.uid()).isEqualTo(1000);
    assertThat(app.gid()).isEqualTo(1001);
    assertThat(home.mode()).isEqualTo(040755);
    assertThat(home.mtimeSeconds()).isEqualTo(0);
    assertThat(tree.dependsOnLowerLayers()).isTrue();
  }

  @Test
  void explicitParents_doNotDependOnLowers() throws Exception {
    LayerTree tree =
        tree(
            Map.of("tmp", LowerLayers.Entry.directory(01777, 0, 0, 0, 0)),
            directory("tmp"),
            file("tmp/.keep"));

    assertThat(node(tree, "tmp").mode()).isEqualTo(040755);
    assertThat(tree.dependsOnLowerLayers()).isFalse();
  }

  @Test
  void lowerSymlinkParent_becomesDirectoryThatHidesIt() throws Exception {
    // As containerd's unpack does: the link below is not followed, and no attributes come from it.
    LayerTree tree =
        tree(
            Map.of(
                "lib",
                LowerLayers.Entry.OTHER,
                "usr/lib",
                LowerLayers.Entry.directory(0750, 0, 3, 0, 0)),
            file("lib/newfile"),
            hardLink("lib/alias", "lib/newfile"));

    assertThat(node(tree, "lib").mode()).isEqualTo(040755);
    assertThat(node(tree, "lib/alias")).isSameInstanceAs(node(tree, "lib/newfile"));
    assertThat(tree.find(ByteString.utf8("usr"))).isEmpty();
  }

  @Test
  void absoluteSymlinkParent_staysInsideRoot() throws Exception {
    LayerTree tree =
        tree(
            Map.of(),
            entry("lib64", EntryType.SYMLINK).linkname("/../../usr/lib64").build(),
            file("lib64/ld.so"));

    assertThat(node(tree, "usr/lib64/ld.so").type()).isEqualTo(NodeType.REGULAR_FILE);
  }

  @Test
  void sameLayerSymlinkParent_isFollowed() throws Exception {
    LayerTree tree =
        tree(
            Map.of(),
            entry("esc", EntryType.SYMLINK).linkname("/opt/target").build(),
            file("esc/inside"));

    assertThat(node(tree, "esc").type()).isEqualTo(NodeType.SYMLINK);
    assertThat(node(tree, "opt/target/inside").type()).isEqualTo(NodeType.REGULAR_FILE);
  }

  @Test
  void symlinkLoop_endsInImplicitDirectory() throws Exception {
    LayerTree tree =
        tree(Map.of(), entry("a", EntryType.SYMLINK).linkname("a").build(), file("a/x"));

    assertThat(node(tree, "a").isDirectory()).isTrue();
    assertThat(node(tree, "a/x").type()).isEqualTo(NodeType.REGULAR_FILE);
  }

  @Test
  void directoryWhitedOutInSameLayer_isOpaque() throws Exception {
    LayerTree tree =
        tree(
            Map.of("x2", LowerLayers.Entry.directory(0700, 0, 0, 0, 0)),
            directory("x2"),
            file("x2/upperf"),
            file(".wh.x2"));

    assertThat(tree.isOpaque(node(tree, "x2"))).isTrue();
  }

  @Test
  void whiteoutParent_skipsLowers() throws Exception {
    LayerTree tree =
        tree(
            Map.of(
                "opt", LowerLayers.Entry.directory(0700, 0, 0, 0, 0),
                "opt/sub", LowerLayers.Entry.directory(0700, 0, 0, 0, 0)),
            file(".wh.opt"),
            file("opt/new"),
            file("opt/sub/deeper"));

    assertThat(node(tree, "opt/new").type()).isEqualTo(NodeType.REGULAR_FILE);
    assertThat(tree.isOpaque(node(tree, "opt"))).isTrue();
    assertThat(node(tree, "opt").mode()).isEqualTo(040755);
    // The layers below are not asked about paths under the whited-out opt.
    assertThat(node(tree, "opt/sub").mode()).isEqualTo(040755);
    assertThat(node(tree, "opt/sub/deeper").type()).isEqualTo(NodeType.REGULAR_FILE);
  }
}
