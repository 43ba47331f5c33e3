package dev.jsoci.fs.fuse;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.jsoci.fs.FileSystemOptions;
import dev.jsoci.fs.LayerFileSystem;
import dev.jsoci.fs.LayerTree;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocCodec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mounts layers with unusual trees (a directory of 100,000 entries, paths deeper and longer than
 * PATH_MAX, names that are not UTF-8) and compares what the mount shows with what GNU tar
 * extracts from the same layer. Each layer's zTOC goes through its encoded form first, as a
 * zTOC read from a registry does. Needs root, /dev/fuse, fusermount, GNU tar and python3.
 */
class OddTreeMountTest {
  private static final int WIDE_ENTRIES = 100_000;

  @TempDir static Path shared;

  private static Path script;

  @TempDir Path temp;

  private TestMounts mounts;

  @BeforeAll
  static void copyScript() throws Exception {
    FuseEnvironment.assumeFuseMounts();
    FuseEnvironment.assumeProgram("tar", "tar");
    FuseEnvironment.assumeProgram("python3", "python3");
    script = MountedLayerTest.Tools.copyResource("odd_trees.py", shared);
  }

  @BeforeEach
  void createMounts() {
    mounts = new TestMounts(temp);
  }

  @AfterEach
  void unmountAll() throws Exception {
    mounts.close();
  }

  /** Writes a layer with {@code odd_trees.py}, mounts it, and returns the mount point. */
  private Path mountLayer(String kind, String... arguments) throws Exception {
    Path tar = temp.resolve(kind + ".tar");
    List<String> command = new ArrayList<>(List.of("python3", script.toString(), kind));
    command.add(tar.toString());
    command.addAll(List.of(arguments));
    Commands.run(command.toArray(String[]::new));

    TestLayer layer = TestLayer.fromTar(kind, tar);
    Ztoc decoded = ZtocCodec.decode(ZtocCodec.encode(layer.ztoc), kind);
    LayerFileSystem fileSystem =
        new LayerFileSystem(
            LayerTree.of(decoded, kind), layer.contentReader(), FileSystemOptions.defaults());
    Path mountPoint = temp.resolve("mnt-" + kind);
    mounts.mount(fileSystem, mountPoint);
    return mountPoint;
  }

  private static Path extract(Path tar, Path directory) throws Exception {
    Files.createDirectories(directory);
    // GNU tar 1.34 warns that it does not know PAX's hdrcharset, and then uses the bytes as
    // they are, which is what hdrcharset=BINARY asks for.
    Commands.runAllowingFailure(
        "tar", "--numeric-owner", "-xf", tar.toString(), "-C", directory.toString());
    return directory;
  }

  private static String python(String... arguments) throws Exception {
    List<String> command = new ArrayList<>(List.of("python3", script.toString()));
    command.addAll(List.of(arguments));
    return Commands.run(command.toArray(String[]::new));
  }

  @Test
  void wideDirectory_listsEveryEntryOnceInOrder() throws Exception {
    Path mountPoint = mountLayer("wide", Integer.toString(WIDE_ENTRIES));
    Path wide = mountPoint.resolve("wide");

    // Commands.run fails after 2 minutes, so a listing or a lookup whose cost grows with the
    // directory size fails here instead of hanging.
    List<String> names = python("listing", wide.toString()).lines().toList();
    String count = Commands.run("sh", "-c", "ls -f \"$1\" | wc -l", "ls", wide.toString());
    String sizes =
        Commands.run(
            "sh", "-c", "find \"$1\" -name 'f*7' -exec stat -c %s {} + | sort -u", "stat",
            wide.toString());

    // Python's scandir leaves out "." and "..", and ls -f lists them.
    assertThat(names.size()).isEqualTo(WIDE_ENTRIES);
    assertThat(count.strip()).isEqualTo(Integer.toString(WIDE_ENTRIES + 2));
    for (int i = 0; i < WIDE_ENTRIES; i += 9973) {
      assertWithMessage("entry %s", i).that(names.get(i)).isEqualTo(hex(String.format("f%06d", i)));
    }
    assertWithMessage("listing is in strict byte order").that(isStrictlyIncreasing(names)).isTrue();
    assertThat(names.get(WIDE_ENTRIES - 1)).isEqualTo(hex(String.format("f%06d", WIDE_ENTRIES - 1)));
    assertThat(sizes.strip()).isEqualTo("0");
    assertThat(Files.exists(wide.resolve(String.format("f%06d", WIDE_ENTRIES)))).isFalse();
  }

  /** Returns whether hex-encoded names of equal length are in strictly increasing byte order. */
  private static boolean isStrictlyIncreasing(List<String> hexNames) {
    for (int i = 1; i < hexNames.size(); i++) {
      if (hexNames.get(i - 1).compareTo(hexNames.get(i)) >= 0) {
        return false;
      }
    }
    return true;
  }

  @Test
  void deepPaths_matchTarExtraction() throws Exception {
    Path mountPoint = mountLayer("deep");
    Path extracted = extract(temp.resolve("deep.tar"), temp.resolve("deep-x"));

    String mounted = python("describe", mountPoint.toString());
    String unpacked = python("describe", extracted.toString());

    // GNU tar cannot create the file whose path is over PATH_MAX, so only its directories are
    // in the extraction; the mount has the file as well.
    String longerFile = hex("longer/" + longerDirectory() + "/f");
    assertThat(lines(mounted, true)).isEqualTo(lines(unpacked, true));
    assertThat(mounted).contains(hex("d/".repeat(500) + "bottom") + " file 10 ");
    assertThat(mounted).contains(longerFile + " file 14 ");
    assertThat(unpacked).doesNotContain(longerFile + " file");
  }

  @Test
  void deepPaths_fullPathOverPathMax_failsWithEnametoolong() throws Exception {
    Path mountPoint = mountLayer("deep");
    String atLimit = "long/" + longDirectory().substring(0, 4000 - "long/".length() - 2) + "/f";

    String longFile = python("open", mountPoint.toString(), hex(atLimit)).strip();
    String deepFile = python("open", mountPoint.toString(), hex("d/".repeat(500) + "bottom"));
    String overLimit =
        python("open", mountPoint.toString(), hex("longer/" + longerDirectory() + "/f")).strip();

    assertThat(atLimit).hasLength(4000);
    assertThat(longFile).isEqualTo("ok " + sha256Hex("4000\n"));
    assertThat(deepFile.strip()).isEqualTo("ok " + sha256Hex("depth 500\n"));
    // The kernel rejects a path of more than PATH_MAX bytes before FUSE sees it, as on any
    // filesystem; the file is still reachable relative to a directory descriptor (see above).
    assertThat(overLimit).isEqualTo("ENAMETOOLONG");
  }

  @Test
  void nonUtf8Names_roundTripThroughReaddirAndOpen() throws Exception {
    Path mountPoint = mountLayer("names");
    Path extracted = extract(temp.resolve("names.tar"), temp.resolve("names-x"));

    String mounted = python("describe", mountPoint.toString());
    String unpacked = python("describe", extracted.toString());

    assertThat(lines(mounted, false)).isEqualTo(lines(unpacked, false));
    for (String prefix : List.of("gnu/", "pax/")) {
      for (String name : List.of("a\u00ff", "a\u00fe", "\u00ff\u00fe", "caf\u00e9")) {
        byte[] raw = latin1(prefix + name);
        byte[] content = latin1(name + " content\n");
        assertWithMessage("open %s", prefix + name)
            .that(python("open", mountPoint.toString(), HexFormat.of().formatHex(raw)).strip())
            .isEqualTo("ok " + sha256Hex(content));
      }
    }
  }

  /** Returns the 3999-byte directory path of the 4000-byte file, 20 names of 199 bytes. */
  private static String longDirectory() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      names.add(String.format("%02d", i) + "l".repeat(197));
    }
    return String.join("/", names);
  }

  /** Returns the directory path of the file over PATH_MAX, 25 names of 200 bytes. */
  private static String longerDirectory() {
    List<String> names = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      names.add(String.format("%02d", i) + "m".repeat(198));
    }
    return String.join("/", names);
  }

  /** Returns the lines of a description, without the {@code longer} tree when asked. */
  private static List<String> lines(String description, boolean withoutLonger) {
    String longerPrefix = hex("longer");
    return description
        .lines()
        .filter(line -> !withoutLonger || !line.startsWith(longerPrefix))
        .toList();
  }

  private static String hex(String text) {
    return HexFormat.of().formatHex(text.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] latin1(String text) {
    return text.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static String sha256Hex(String text) throws Exception {
    return sha256Hex(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String sha256Hex(byte[] bytes) throws Exception {
    return HexFormat.of()
        .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
  }
}
