package dev.jsoci.snapshotter.unpack;

import static com.google.common.truth.Truth.assertThat;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.fs.LowerLayers;
import dev.jsoci.fs.OpaqueXattr;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerUnpackerTest {
  @TempDir Path work;
  private Path layer;
  private Path outside;

  @BeforeEach
  void createDirectories() throws IOException {
    layer = Files.createDirectories(work.resolve("a/b/layer"));
    outside = Files.createDirectories(work.resolve("outside"));
  }

  private LayerUnpacker.Summary unpack(TarWriter tar) throws IOException {
    Path file = work.resolve("layer.tar");
    Files.write(file, tar.finish());
    return LayerUnpacker.forCurrentUser(OpaqueXattr.TRUSTED).unpack(file, layer, "test-layer");
  }

  /** Lists every path under the work directory, to show that nothing appeared outside. */
  private List<Path> everythingOutsideLayer() throws IOException {
    try (var paths = Files.walk(work)) {
      return paths
          .filter(path -> !path.startsWith(layer))
          .filter(path -> !path.getFileName().toString().equals("layer.tar"))
          .filter(path -> !layer.startsWith(path))
          .filter(path -> !path.equals(outside))
          .toList();
    }
  }

  @Test
  void unpack_overLowerLayers_copiesDirectoriesNotLinks() throws IOException {
    Path file = work.resolve("layer.tar");
    Files.write(file, new TarWriter().file("tmp/.keep", "").file("lib/newfile", "new").finish());
    Map<String, LowerLayers.Entry> lowers =
        Map.of(
            "tmp", LowerLayers.Entry.directory(01777, 0, 0, 1_600_000_000L, 0),
            "lib", LowerLayers.Entry.OTHER,
            "usr/lib", LowerLayers.Entry.directory(0750, 0, 0, 1_600_000_000L, 0));

    LayerUnpacker.forCurrentUser(OpaqueXattr.TRUSTED)
        .unpack(
            file,
            layer,
            "test-layer",
            path -> lowers.getOrDefault(path.utf8(), LowerLayers.Entry.ABSENT));

    assertThat(Files.getAttribute(layer.resolve("tmp"), "unix:mode")).isEqualTo(041777);
    assertThat(Files.getLastModifiedTime(layer.resolve("tmp")).toMillis())
        .isEqualTo(1_600_000_000_000L);
    // The link below is not followed; lib becomes a directory of this layer, as in containerd.
    assertThat(Files.getAttribute(layer.resolve("lib"), "unix:mode", NOFOLLOW_LINKS))
        .isEqualTo(040755);
    assertThat(Files.readString(layer.resolve("lib/newfile"))).isEqualTo("new");
    assertThat(Files.exists(layer.resolve("usr"), NOFOLLOW_LINKS)).isFalse();
  }

  @Test
  void unpack_latin1Name_rejectedBeforeWriting() throws IOException {
    // "caf\xe9.txt" and "caf\xe8.txt" would both become "caf\ufffd.txt".
    TarWriter tar =
        new TarWriter()
            .file(new byte[] {'c', 'a', 'f', (byte) 0xe9, '.', 't', 'x', 't'}, "e-acute")
            .file(new byte[] {'c', 'a', 'f', (byte) 0xe8, '.', 't', 'x', 't'}, "e-grave");

    IOException e = assertThrows(IOException.class, () -> unpack(tar));

    assertThat(e).hasMessageThat().contains("is not valid UTF-8");
    try (var entries = Files.list(layer)) {
      assertThat(entries.toList()).isEmpty();
    }
  }

  @Test
  void unpack_dotDotName_rejected() throws IOException {
    TarWriter tar = new TarWriter().file("../x", "escaped").file("../../x", "escaped");

    UnsafeEntryException e = assertThrows(UnsafeEntryException.class, () -> unpack(tar));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("layer test-layer: entry \"../x\" has a \"..\" component");
    assertThat(Files.exists(layer.resolveSibling("x"))).isFalse();
    assertThat(everythingOutsideLayer()).isEmpty();
  }

  @Test
  void unpack_dotDotInsideName_rejected() {
    TarWriter tar = new TarWriter().directory("d/").file("d/../../x", "escaped");

    assertThrows(UnsafeEntryException.class, () -> unpack(tar));

    assertThat(Files.exists(layer.resolveSibling("x"))).isFalse();
  }

  @Test
  void unpack_absoluteName_landsInsideLayer() throws IOException {
    String name = "jsoci-unpack-test-" + UUID.randomUUID();
    TarWriter tar = new TarWriter().file("/etc/" + name, "inside");

    unpack(tar);

    assertThat(Files.exists(Path.of("/etc", name))).isFalse();
    assertThat(Files.readString(layer.resolve("etc").resolve(name))).isEqualTo("inside");
  }

  /** Returns where an absolute host path lands when a link of the layer names it. */
  private Path inLayer(Path hostPath) {
    return layer.resolve(hostPath.toString().substring(1));
  }

  @Test
  void unpack_symlinkParent_followedInsideLayer() throws IOException {
    TarWriter tar = new TarWriter().symlink("a", outside.toString()).file("a/x", "inside");

    unpack(tar);

    assertThat(Files.exists(outside.resolve("x"))).isFalse();
    assertThat(Files.readSymbolicLink(layer.resolve("a"))).isEqualTo(outside);
    assertThat(Files.readString(inLayer(outside).resolve("x"))).isEqualTo("inside");
    assertThat(everythingOutsideLayer()).isEmpty();
  }

  @Test
  void unpack_symlinkToDotDot_stopsAtLayerRoot() throws IOException {
    TarWriter tar = new TarWriter().symlink("up", "../../..").file("up/outside/x", "inside");

    unpack(tar);

    assertThat(Files.exists(outside.resolve("x"))).isFalse();
    assertThat(Files.readString(layer.resolve("outside/x"))).isEqualTo("inside");
    assertThat(everythingOutsideLayer()).isEmpty();
  }

  @Test
  void unpack_fileOverSymlink_replacesLink() throws IOException {
    Files.writeString(outside.resolve("victim"), "original");
    TarWriter tar =
        new TarWriter().symlink("v", outside.resolve("victim").toString()).file("v", "replaced");

    unpack(tar);

    assertThat(Files.readString(outside.resolve("victim"))).isEqualTo("original");
    assertThat(Files.isSymbolicLink(layer.resolve("v"))).isFalse();
    assertThat(Files.readString(layer.resolve("v"))).isEqualTo("replaced");
  }

  @Test
  void unpack_hardLinkOutside_rejected() throws IOException {
    TarWriter tar = new TarWriter().hardLink("h", "../../etc/passwd");

    UnsafeEntryException e = assertThrows(UnsafeEntryException.class, () -> unpack(tar));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("layer test-layer: entry \"../../etc/passwd\" has a \"..\" component");
    assertThat(Files.exists(layer.resolve("h"), NOFOLLOW_LINKS)).isFalse();
  }

  @Test
  void unpack_hardLinkToHostPath_resolvesInsideLayer() {
    TarWriter tar = new TarWriter().hardLink("h", "/etc/passwd");

    IOException e = assertThrows(IOException.class, () -> unpack(tar));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer test-layer: hard link \"h\" points to \"/etc/passwd\", which no earlier entry"
                + " of the layer creates");
    assertThat(Files.exists(layer.resolve("h"), NOFOLLOW_LINKS)).isFalse();
  }

  @Test
  void unpack_hardLinkThroughSymlink_staysInsideLayer() throws IOException {
    Files.writeString(outside.resolve("secret"), "secret");
    TarWriter tar = new TarWriter().symlink("s", outside.toString()).hardLink("h", "s/secret");

    IOException e = assertThrows(IOException.class, () -> unpack(tar));

    assertThat(e).hasMessageThat().contains("which no earlier entry of the layer creates");
    assertThat(Files.exists(layer.resolve("h"), NOFOLLOW_LINKS)).isFalse();
    assertThat(Files.getAttribute(outside.resolve("secret"), "unix:nlink")).isEqualTo(1);
  }

  @Test
  void unpack_symlinkReplacedByDirectory_writesInside() throws IOException {
    TarWriter tar =
        new TarWriter().symlink("a", outside.toString()).directory("a/").file("a/x", "inside");

    unpack(tar);

    assertThat(Files.isSymbolicLink(layer.resolve("a"))).isFalse();
    assertThat(Files.readString(layer.resolve("a/x"))).isEqualTo("inside");
    assertThat(Files.exists(outside.resolve("x"))).isFalse();
    assertThat(everythingOutsideLayer()).isEmpty();
  }

  @Test
  void unpack_whiteoutUnderSymlink_staysInsideLayer() throws IOException {
    Files.writeString(outside.resolve("x"), "kept");
    TarWriter tar = new TarWriter().symlink("s", outside.toString()).file("s/.wh.x", "");

    unpack(tar);

    assertThat(Files.readString(outside.resolve("x"))).isEqualTo("kept");
    assertThat(Files.exists(inLayer(outside).resolve("x"), NOFOLLOW_LINKS)).isTrue();
  }

  @Test
  void unpack_opaqueMarkerUnderSymlink_staysInsideLayer() throws IOException {
    TarWriter tar = new TarWriter().symlink("s", outside.toString()).file("s/.wh..wh..opq", "");

    unpack(tar);

    assertThat(Files.isDirectory(inLayer(outside), NOFOLLOW_LINKS)).isTrue();
    assertThat(everythingOutsideLayer()).isEmpty();
  }

  @Test
  void unpack_fileOverHardLink_keepsOtherName() throws IOException {
    TarWriter tar =
        new TarWriter().file("original", "first").hardLink("h", "original").file("h", "second");

    unpack(tar);

    assertThat(Files.readString(layer.resolve("original"))).isEqualTo("first");
    assertThat(Files.readString(layer.resolve("h"))).isEqualTo("second");
  }

  @Test
  void unpack_fileOverLinkedSymlink_keepsTarget() throws IOException {
    Files.writeString(outside.resolve("victim"), "original");
    TarWriter tar =
        new TarWriter()
            .symlink("s", outside.resolve("victim").toString())
            .hardLink("h", "s")
            .file("h", "replaced");

    unpack(tar);

    assertThat(Files.readString(outside.resolve("victim"))).isEqualTo("original");
    assertThat(Files.readString(layer.resolve("h"))).isEqualTo("replaced");
  }

  @Test
  void unpack_paxNameWithNul_rejected() throws IOException {
    TarWriter tar = new TarWriter().paxPath("dir/a\0/../../../x").file("placeholder", "escaped");

    Exception e = assertThrows(IOException.class, () -> unpack(tar));

    assertThat(e).hasMessageThat().contains("test-layer");
    assertThat(everythingOutsideLayer()).isEmpty();
  }

  @Test
  void unpack_paxNameWithDotDot_rejected() throws IOException {
    TarWriter tar = new TarWriter().paxPath("a/../../x").file("placeholder", "escaped");

    UnsafeEntryException e = assertThrows(UnsafeEntryException.class, () -> unpack(tar));

    assertThat(e).hasMessageThat().contains("has a \"..\" component");
    assertThat(everythingOutsideLayer()).isEmpty();
  }

  @Test
  void unpack_longPaxName_landsInside() throws IOException {
    String component = "d".repeat(200);
    String name = String.join("/", List.of(component, component, component, "file"));
    TarWriter tar = new TarWriter().paxPath(name).file("placeholder", "deep");

    unpack(tar);

    assertThat(Files.readString(layer.resolve(name))).isEqualTo("deep");
    assertThat(Files.exists(layer.resolve("placeholder"))).isFalse();
  }

  @Test
  void unpack_componentTooLong_failsInside() throws IOException {
    String name = "dir/" + "n".repeat(300);
    TarWriter tar = new TarWriter().paxPath(name).file("placeholder", "long");

    IOException e = assertThrows(IOException.class, () -> unpack(tar));

    assertThat(e).hasMessageThat().isNotEmpty();
    assertThat(everythingOutsideLayer()).isEmpty();
  }

  @Test
  void unpack_ordinaryLayer_createsEntries() throws IOException {
    TarWriter tar =
        new TarWriter()
            .directory("./bin/", 0750)
            .file("./bin/tool", "#!/bin/sh\n", 04755)
            .hardLink("./bin/tool2", "bin/tool")
            .symlink("./bin/sh", "../usr/bin/dash")
            .file("etc/config", "a=1\n", 0640)
            .file("etc/config", "a=2\n", 0644);

    LayerUnpacker.Summary summary = unpack(tar);

    assertThat(summary.entries()).isEqualTo(6);
    assertThat(Files.readString(layer.resolve("bin/tool"))).isEqualTo("#!/bin/sh\n");
    assertThat(Files.getAttribute(layer.resolve("bin/tool2"), "unix:ino"))
        .isEqualTo(Files.getAttribute(layer.resolve("bin/tool"), "unix:ino"));
    assertThat(Files.readSymbolicLink(layer.resolve("bin/sh")))
        .isEqualTo(Path.of("../usr/bin/dash"));
    assertThat(Files.readString(layer.resolve("etc/config"))).isEqualTo("a=2\n");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(layer.resolve("bin"))))
        .isEqualTo("rwxr-x---");
    assertThat((int) Files.getAttribute(layer.resolve("bin/tool"), "unix:mode") & 07777)
        .isEqualTo(04755);
    assertThat(Files.getLastModifiedTime(layer.resolve("bin")).toMillis())
        .isEqualTo(TarWriter.MTIME_SECONDS * 1000);
    assertThat(everythingOutsideLayer()).isEmpty();
  }

  @Test
  void unpack_whiteouts_becomeOverlayForm() throws Exception {
    assumeTrue(LayerUnpacker.runsAsRoot(), "whiteout devices and trusted xattrs need root");
    TarWriter tar =
        new TarWriter()
            .file("etc/.wh.gone", "")
            .directory("var/cache/")
            .file("var/cache/.wh..wh..opq", "")
            .file("var/cache/kept", "new")
            .file("keep/real", "wins")
            .file("keep/.wh.real", "")
            .file("replaced/.wh.late", "")
            .file("replaced/late", "real");

    LayerUnpacker.Summary summary = unpack(tar);

    assertThat(summary.whiteouts()).isEqualTo(3);
    Path gone = layer.resolve("etc/gone");
    assertThat(Files.getAttribute(gone, "unix:mode", NOFOLLOW_LINKS)).isEqualTo(0020000);
    assertThat(Files.getAttribute(gone, "unix:rdev", NOFOLLOW_LINKS)).isEqualTo(0L);
    assertThat(Files.exists(layer.resolve("etc/.wh.gone"), NOFOLLOW_LINKS)).isFalse();
    assertThat(Files.exists(layer.resolve("var/cache/.wh..wh..opq"), NOFOLLOW_LINKS)).isFalse();
    assertThat(getfattr(layer.resolve("var/cache"), "trusted.overlay.opaque")).isEqualTo("y");
    assertThat(Files.readString(layer.resolve("var/cache/kept"))).isEqualTo("new");
    assertThat(Files.readString(layer.resolve("keep/real"))).isEqualTo("wins");
    assertThat(Files.readString(layer.resolve("replaced/late"))).isEqualTo("real");
  }

  @Test
  void unpack_whitedOutDirectory_isOpaque() throws Exception {
    // Whiteouts remove the layers below only, so what the layer puts in the name is all that shows.
    TarWriter tar =
        new TarWriter()
            .file(".wh.sgid", "")
            .directory("sgid/")
            .file("sgid/new", "n")
            .file(".wh.implicit", "")
            .file("implicit/new", "n")
            .directory("late/")
            .file(".wh.late", "");

    unpack(tar);

    for (String directory : List.of("sgid", "implicit", "late")) {
      assertThat(Files.isDirectory(layer.resolve(directory), NOFOLLOW_LINKS)).isTrue();
      assertThat(getfattr(layer.resolve(directory), "trusted.overlay.opaque")).isEqualTo("y");
    }
    assertThat(Files.readString(layer.resolve("implicit/new"))).isEqualTo("n");
  }

  private static String getfattr(Path path, String name) throws Exception {
    Process process =
        new ProcessBuilder("getfattr", "--only-values", "-n", name, path.toString()).start();
    String value = new String(process.getInputStream().readAllBytes(), UTF_8);
    assertThat(process.waitFor()).isEqualTo(0);
    return value;
  }

  /** Writes ustar archives entry by entry, with any name, including hostile ones. */
  private static final class TarWriter {
    static final long MTIME_SECONDS = 1_700_000_000L;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    TarWriter file(String name, String content) {
      return file(name, content, 0644);
    }

    TarWriter file(String name, String content, int mode) {
      byte[] data = content.getBytes(UTF_8);
      header(name, '0', "", data.length, mode);
      out.writeBytes(data);
      out.writeBytes(new byte[(512 - data.length % 512) % 512]);
      return this;
    }

    /** Writes a regular file whose name is {@code name} byte for byte, UTF-8 or not. */
    TarWriter file(byte[] name, String content) {
      byte[] data = content.getBytes(UTF_8);
      header(name, '0', "", data.length, 0644);
      out.writeBytes(data);
      out.writeBytes(new byte[(512 - data.length % 512) % 512]);
      return this;
    }

    TarWriter directory(String name) {
      return directory(name, 0755);
    }

    TarWriter directory(String name, int mode) {
      header(name, '5', "", 0, mode);
      return this;
    }

    TarWriter symlink(String name, String target) {
      header(name, '2', target, 0, 0777);
      return this;
    }

    TarWriter hardLink(String name, String target) {
      header(name, '1', target, 0, 0644);
      return this;
    }

    /** Writes a pax extended header whose {@code path} record names the next entry. */
    TarWriter paxPath(String path) {
      byte[] record = paxRecord("path", path);
      header("PaxHeaders/next", 'x', "", record.length, 0644);
      out.writeBytes(record);
      out.writeBytes(new byte[(512 - record.length % 512) % 512]);
      return this;
    }

    /** Returns {@code "<length> key=value\n"}, where the length counts the whole record. */
    private static byte[] paxRecord(String key, String value) {
      int body = (" " + key + "=" + value + "\n").getBytes(UTF_8).length;
      int length = body + Integer.toString(body).length();
      if (Integer.toString(length).length() != Integer.toString(body).length()) {
        length++;
      }
      return (length + " " + key + "=" + value + "\n").getBytes(UTF_8);
    }

    byte[] finish() {
      out.writeBytes(new byte[1024]);
      return out.toByteArray();
    }

    private void header(String name, char type, String linkName, long size, int mode) {
      header(name.getBytes(UTF_8), type, linkName, size, mode);
    }

    private void header(byte[] name, char type, String linkName, long size, int mode) {
      byte[] block = new byte[512];
      put(block, 0, name);
      put(block, 100, octal(mode, 8));
      put(block, 108, octal(0, 8));
      put(block, 116, octal(0, 8));
      put(block, 124, octal(size, 12));
      put(block, 136, octal(MTIME_SECONDS, 12));
      Arrays.fill(block, 148, 156, (byte) ' ');
      block[156] = (byte) type;
      put(block, 157, linkName.getBytes(UTF_8));
      put(block, 257, "ustar\0".getBytes(UTF_8));
      put(block, 263, "00".getBytes(UTF_8));
      int checksum = 0;
      for (byte b : block) {
        checksum += b & 0xff;
      }
      put(block, 148, octal(checksum, 8));
      out.writeBytes(block);
    }

    private static byte[] octal(long value, int width) {
      String text = String.format("%0" + (width - 1) + "o", value);
      return Arrays.copyOf(text.getBytes(UTF_8), width);
    }

    private static void put(byte[] block, int offset, byte[] bytes) {
      System.arraycopy(bytes, 0, block, offset, bytes.length);
    }
  }
}
