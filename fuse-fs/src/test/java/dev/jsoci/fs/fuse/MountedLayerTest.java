package dev.jsoci.fs.fuse;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.fs.FileSystemOptions;
import dev.jsoci.fs.FileSystemStatistics;
import dev.jsoci.fs.LayerStatus;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mounts a layer that GNU tar made from a directory with every kind of entry, and compares the *
 * mount with GNU tar's own extraction of the same layer. Needs root, /dev/fuse, fusermount, GNU
 * tar, python3, setfattr and mknod; skipped otherwise.
 */
class MountedLayerTest {
  private static final int LARGE_DIRECTORY_ENTRIES = 5000;

  @TempDir static Path shared;

  private static TestLayer layer;
  private static Path extracted;
  private static Path probe;
  private static Path xattrDump;

  @TempDir Path temp;

  private TestMounts mounts;

  @BeforeAll
  static void buildLayer() throws Exception {
    FuseEnvironment.assumeFuseMounts();
    FuseEnvironment.assumeProgram("tar", "tar");
    FuseEnvironment.assumeProgram("python3", "python3");
    FuseEnvironment.assumeProgram("setfattr", "attr");

    Path source = shared.resolve("source");
    SourceTree.write(source);
    layer = TestLayer.fromDirectory("everything", source, shared.resolve("everything.tar"));
    extracted = shared.resolve("extracted");
    layer.extractTo(extracted);
    probe = Tools.copyResource("fs_probe.py", shared);
    xattrDump = Tools.copyResource("xattr_dump.py", shared);
  }

  @BeforeEach
  void createMounts() {
    mounts = new TestMounts(temp);
  }

  @AfterEach
  void unmountAll() throws Exception {
    mounts.close();
  }

  private Path mountLayer(FileSystemOptions options) throws IOException {
    Path mountPoint = temp.resolve("mnt");
    mounts.mount(layer.fileSystem(options), mountPoint);
    return mountPoint;
  }

  @Test
  void mountedTree_equalsTarExtraction() throws Exception {
    Path mountPoint = mountLayer(FileSystemOptions.defaults());

    List<String> differences =
        new TreeComparison(true, xattrDump).differences(extracted, mountPoint);

    assertWithMessage("differences between tar -x and the mount").that(differences).isEmpty();
    // The comparison covers what the tree was built to contain.
    Map<String, Path> paths = TreeComparison.walk(mountPoint);
    assertThat(paths.size()).isGreaterThan(LARGE_DIRECTORY_ENTRIES + 40);
    assertThat(paths).containsKey("special/fifo");
    assertThat(paths).containsKey("names/" + "n".repeat(255));
    assertThat(paths).containsKey("names/\u65e5\u672c\u8a9e.txt");
  }

  @Test
  void xattrs_dumpedFromMountMatchLayer() throws Exception {
    Path mountPoint = mountLayer(FileSystemOptions.defaults());

    List<String> lines = new TreeComparison(true, xattrDump).dumpXattrs(mountPoint);

    // 78617474722f74657874 is "xattr/text" in hex.
    assertThat(lines).contains("78617474722f74657874 user.comment 68656c6c6f");
    assertThat(lines).contains("78617474722f74657874 trusted.t 736563726574");
    assertThat(lines).contains("78617474722f62696e617279 user.bin 00ff10");
    assertThat(lines).contains("78617474722f656d707479 user.empty ");
  }

  @Test
  void readdir_seekdirInLargeDirectory() throws Exception {
    Path mountPoint = mountLayer(FileSystemOptions.defaults());

    String output =
        Commands.run("python3", probe.toString(), "seekdir", mountPoint.resolve("many").toString());

    assertThat(output).isEqualTo("entries " + (LARGE_DIRECTORY_ENTRIES + 2) + "\nok\n");
  }

  @Test
  void readdir_reportsFileTypes() throws Exception {
    Path mountPoint = mountLayer(FileSystemOptions.defaults());

    String output =
        Commands.run(
            "python3", probe.toString(), "types", mountPoint.resolve("special").toString());

    // d_type values: DT_FIFO 1, DT_CHR 2, DT_DIR 4, DT_BLK 6, DT_REG 8, DT_LNK 10.
    assertThat(output.lines().sorted().toList())
        .containsExactly(
            ". 4",
            ".. 4",
            "fifo 1",
            "link 10",
            "loop 6",
            "null 2",
            "regular 8",
            "subdir 4",
            "wide 2");
  }

  @Test
  void getxattr_sizeQueryAndTooSmallBuffer() throws Exception {
    Path mountPoint = mountLayer(FileSystemOptions.defaults());
    String path = mountPoint.resolve("xattr/text").toString();

    String present = Commands.run("python3", probe.toString(), "xattr", path, "user.comment");
    String missing = Commands.run("python3", probe.toString(), "xattr", path, "user.missing");

    // ERANGE is 34 and ENODATA 61 on Linux.
    assertThat(present).isEqualTo("size 5\nsmall 34\nvalue 68656c6c6f\n");
    assertThat(missing).isEqualTo("error 61\n");
  }

  @Test
  void mutations_failReadOnly() throws Exception {
    Path mountPoint = mountLayer(FileSystemOptions.defaults());
    Path file = mountPoint.resolve("plain/one");
    List<Executable> mutations =
        List.of(
            () -> Files.createFile(mountPoint.resolve("new")),
            () -> Files.createDirectory(mountPoint.resolve("plain/new")),
            () -> Files.delete(file),
            () -> Files.move(file, mountPoint.resolve("plain/moved")),
            () -> Files.write(file, new byte[] {1}, StandardOpenOption.APPEND),
            () -> Files.newOutputStream(file, StandardOpenOption.TRUNCATE_EXISTING).close(),
            () -> Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------")),
            () -> Files.setAttribute(file, "unix:uid", 7),
            () -> Files.setLastModifiedTime(file, FileTime.fromMillis(0)),
            () -> Files.createSymbolicLink(mountPoint.resolve("link"), file),
            () -> Files.createLink(mountPoint.resolve("hard"), file));

    for (Executable mutation : mutations) {
      FileSystemException e = assertThrows(FileSystemException.class, mutation);
      assertThat(e.getReason()).isEqualTo("Read-only file system");
    }
    Commands.Result setfattr =
        Commands.runAllowingFailure("setfattr", "-n", "user.x", "-v", "1", file.toString());
    assertThat(setfattr.output()).contains("Read-only file system");
  }

  @Test
  void statfs_reportsLayerTotals() throws Exception {
    Path mountPoint = mountLayer(FileSystemOptions.defaults());
    FileSystemStatistics statistics = layer.fileSystem(FileSystemOptions.defaults()).statistics();

    FileStore store = Files.getFileStore(mountPoint);
    String stat = Commands.run("stat", "-f", "-c", "%S %b %f %c %d %l", mountPoint.toString());

    assertThat(store.getTotalSpace()).isEqualTo(statistics.blocks() * 4096);
    assertThat(stat.strip())
        .isEqualTo("4096 " + statistics.blocks() + " 0 " + statistics.files() + " 0 255");
    assertThat(statistics.blocks()).isGreaterThan(90);
    assertThat(statistics.files()).isGreaterThan(LARGE_DIRECTORY_ENTRIES);
  }

  @Test
  void readlink_returnsStoredTarget() throws Exception {
    Path mountPoint = mountLayer(FileSystemOptions.defaults());

    assertThat(Files.readSymbolicLink(mountPoint.resolve("links/long")).toString())
        .isEqualTo("x/".repeat(150));
    assertThat(Files.readSymbolicLink(mountPoint.resolve("links/absolute")).toString())
        .isEqualTo("/etc/passwd");
    Commands.Result readlink =
        Commands.runAllowingFailure("readlink", mountPoint.resolve("plain/one").toString());
    assertThat(readlink.exitStatus()).isEqualTo(1);
  }

  @Test
  void read_largeFileAtEveryOffset() throws Exception {
    Path mountPoint = mountLayer(FileSystemOptions.defaults());
    byte[] expected = Files.readAllBytes(extracted.resolve("plain/large"));

    try (var channel = Files.newByteChannel(mountPoint.resolve("plain/large"))) {
      Random random = new Random(7);
      for (int i = 0; i < 200; i++) {
        int offset = random.nextInt(expected.length + 100);
        int length = 1 + random.nextInt(70_000);
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate(length);
        channel.position(offset);
        int count = Math.max(channel.read(buffer), 0);
        int want = Math.max(0, Math.min(length, expected.length - offset));
        assertThat(count).isAtMost(want);
        assertThat(java.util.Arrays.copyOf(buffer.array(), count))
            .isEqualTo(java.util.Arrays.copyOfRange(expected, offset, offset + count));
      }
    }
  }

  @Test
  void stateDirectory_readsCurrentStatus() throws Exception {
    AtomicReference<LayerStatus> status =
        new AtomicReference<>(new LayerStatus("sha256:0123", 2000, 500, null));
    Path mountPoint = mountLayer(FileSystemOptions.builder().layerStatus(status::get).build());
    Path stateFile = mountPoint.resolve(".soci-snapshotter/sha256:0123.json");

    String first = Files.readString(stateFile);
    status.set(new LayerStatus("sha256:0123", 2000, 2000, "connection reset by peer"));
    String second = Files.readString(stateFile);

    assertThat(first)
        .isEqualTo(
            "{\"digest\":\"sha256:0123\",\"size\":2000,\"fetchedSize\":500,"
                + "\"fetchedPercent\":25}\n");
    assertThat(second)
        .isEqualTo(
            "{\"error\":\"connection reset by peer\",\"digest\":\"sha256:0123\",\"size\":2000,"
                + "\"fetchedSize\":2000,\"fetchedPercent\":100}\n");
    try (var listing = Files.list(mountPoint)) {
      assertThat(listing.map(path -> path.getFileName().toString()).toList())
          .doesNotContain(".soci-snapshotter");
    }
    assertThat(Files.getAttribute(mountPoint.resolve(".soci-snapshotter"), "unix:ino"))
        .isEqualTo(1L);
  }

  @Test
  void invalidUtf8Name_listedAndReadable() throws Exception {
    Path source = temp.resolve("source");
    Files.createDirectories(source);
    Commands.run(
        "python3",
        "-c",
        "import os, sys; open(os.path.join(os.fsencode(sys.argv[1]), b'bad\\xffname'), 'wb')"
            + ".write(b'content')",
        source.toString());
    TestLayer invalid = TestLayer.fromDirectory("invalid-utf8", source, temp.resolve("l.tar"));
    Path mountPoint = temp.resolve("mnt");
    mounts.mount(invalid.fileSystem(FileSystemOptions.defaults()), mountPoint);

    String output =
        Commands.run(
            "python3",
            "-c",
            "import os, sys; d = os.fsencode(sys.argv[1]); names = os.listdir(d); print(names);"
                + " print(open(os.path.join(d, names[0]), 'rb').read())",
            mountPoint.toString());

    assertThat(output).isEqualTo("[b'bad\\xffname']\nb'content'\n");
  }

  /** Writes the source tree of the layer, as root. */
  static final class SourceTree {
    private SourceTree() {}

    static void write(Path root) throws Exception {
      Files.createDirectories(root);
      Random random = new Random(42);

      // Regular files around page and span boundaries.
      Path plain = Files.createDirectories(root.resolve("plain"));
      Files.write(plain.resolve("empty"), new byte[0]);
      Files.writeString(plain.resolve("one"), "x");
      Files.write(plain.resolve("page"), randomBytes(random, 4096));
      Files.write(plain.resolve("span-edge"), randomBytes(random, 65537));
      Files.write(plain.resolve("large"), randomBytes(random, 300_000));

      // Permission and special bits.
      Path modes = Files.createDirectories(root.resolve("modes"));
      mode(Files.writeString(modes.resolve("setuid"), "u"), 04755);
      mode(Files.writeString(modes.resolve("setgid"), "g"), 02711);
      mode(Files.writeString(modes.resolve("zero"), "0"), 0);
      mode(Files.writeString(modes.resolve("all"), "a"), 0777);
      mode(Files.createDirectories(modes.resolve("sticky")), 01777);

      // Owners, including ids above 2^31 that need PAX records.
      Path owners = Files.createDirectories(root.resolve("owners"));
      owner(Files.writeString(owners.resolve("numeric"), "n"), 1234, 5678);
      owner(Files.writeString(owners.resolve("big"), "b"), 4_000_000_000L, 4_000_000_001L);
      Path ownedDirectory = Files.createDirectories(owners.resolve("directory"));
      owner(ownedDirectory, 1001, 1002);
      mode(ownedDirectory, 0750);

      // Hard links across directories, and symbolic links of every shape.
      Path links = Files.createDirectories(root.resolve("links"));
      Path original = Files.writeString(links.resolve("original"), "shared content");
      Files.createLink(links.resolve("second"), original);
      Files.createLink(Files.createDirectories(root.resolve("other")).resolve("third"), original);
      Files.createSymbolicLink(links.resolve("relative"), Path.of("original"));
      Files.createSymbolicLink(links.resolve("absolute"), Path.of("/etc/passwd"));
      Files.createSymbolicLink(links.resolve("dangling"), Path.of("missing/target"));
      // ln keeps the trailing slash that Path.of would drop.
      Commands.run("ln", "-s", "x/".repeat(150), links.resolve("long").toString());
      Files.createSymbolicLink(links.resolve("unicode"), Path.of("\u00fc-target"));

      // Special files.
      Path special = Files.createDirectories(root.resolve("special"));
      Commands.run("mkfifo", special.resolve("fifo").toString());
      Commands.run("mknod", special.resolve("null").toString(), "c", "1", "3");
      Commands.run("mknod", special.resolve("loop").toString(), "b", "7", "200");
      Commands.run("mknod", special.resolve("wide").toString(), "c", "511", "70000");
      Files.writeString(special.resolve("regular"), "r");
      Files.createDirectories(special.resolve("subdir"));
      Files.createSymbolicLink(special.resolve("link"), Path.of("regular"));

      // Long and non-ASCII names.
      Path names = Files.createDirectories(root.resolve("names"));
      Files.writeString(names.resolve("n".repeat(255)), "long name");
      Path deep = names;
      for (int i = 0; i < 12; i++) {
        deep = deep.resolve("directory-level-" + i + "-" + "d".repeat(20));
      }
      Files.createDirectories(deep);
      Files.writeString(deep.resolve("file"), "deep");
      for (String name :
          List.of(
              "na\u00efve",
              "\u0444\u0430\u0439\u043b",
              "\u65e5\u672c\u8a9e.txt",
              "\ud83d\ude00",
              "with space",
              "tab\tname")) {
        Files.writeString(names.resolve(name), name);
      }

      // Extended attributes of every namespace, binary and empty values, on directories and
      // symbolic links.
      Path xattr = Files.createDirectories(root.resolve("xattr"));
      Path text = Files.writeString(xattr.resolve("text"), "t");
      Commands.run("setfattr", "-n", "user.comment", "-v", "hello", text.toString());
      Commands.run("setfattr", "-n", "trusted.t", "-v", "secret", text.toString());
      Commands.run("setfattr", "-n", "security.s", "-v", "sec", text.toString());
      Path binary = Files.writeString(xattr.resolve("binary"), "b");
      Commands.run("setfattr", "-n", "user.bin", "-v", "0x00ff10", binary.toString());
      Path empty = Files.writeString(xattr.resolve("empty"), "e");
      Commands.run("setfattr", "-n", "user.empty", empty.toString());
      Path xattrDirectory = Files.createDirectories(xattr.resolve("directory"));
      Commands.run("setfattr", "-n", "user.on-directory", "-v", "1", xattrDirectory.toString());
      Path xattrLink = Files.createSymbolicLink(xattr.resolve("link"), Path.of("text"));
      Commands.run("setfattr", "-h", "-n", "trusted.on-link", "-v", "1", xattrLink.toString());

      // A directory of 5,000 entries.
      Path many = Files.createDirectories(root.resolve("many"));
      for (int i = 0; i < LARGE_DIRECTORY_ENTRIES; i++) {
        Path file = many.resolve(String.format("f%05d", i));
        Files.write(file, i % 500 == 0 ? ("entry " + i).getBytes(UTF_8) : new byte[0]);
      }

      // Times: nanoseconds, before 1970, far future; set last, on every path.
      Path times = Files.createDirectories(root.resolve("times"));
      Files.writeString(times.resolve("old"), "o");
      Files.writeString(times.resolve("nanos"), "n");
      Files.writeString(times.resolve("future"), "f");
      setTimes(root, times);
    }

    private static void setTimes(Path root, Path times) throws Exception {
      List<Path> paths = new ArrayList<>();
      try (var stream = Files.walk(root)) {
        stream.forEach(paths::add);
      }
      // Deepest first, so setting a child's time does not change its directory's afterwards.
      for (int i = paths.size() - 1; i >= 0; i--) {
        Path path = paths.get(i);
        Instant time = Instant.parse("2021-03-04T05:06:07Z").plusNanos(i * 1_000_003L);
        touch(path, time);
      }
      touch(times.resolve("old"), Instant.parse("1960-05-05T05:05:05.123456789Z"));
      touch(times.resolve("nanos"), Instant.parse("2023-11-14T22:13:20.000000001Z"));
      touch(times.resolve("future"), Instant.parse("2100-01-01T00:00:00Z"));
      touch(times, Instant.parse("2022-02-02T02:02:02.5Z"));
    }

    private static void touch(Path path, Instant time) throws Exception {
      // Files.setLastModifiedTime opens the file, which blocks on a fifo; touch -h does not.
      if (!Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)
          && !Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
        Commands.run("touch", "-h", "-d", time.toString(), path.toString());
      } else {
        Files.setLastModifiedTime(path, FileTime.from(time));
      }
    }

    private static byte[] randomBytes(Random random, int length) {
      byte[] bytes = new byte[length];
      random.nextBytes(bytes);
      return bytes;
    }

    private static void mode(Path path, int mode) throws IOException {
      Files.setAttribute(path, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
    }

    private static void owner(Path path, long uid, long gid) throws IOException {
      Files.setAttribute(path, "unix:uid", (int) uid, LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(path, "unix:gid", (int) gid, LinkOption.NOFOLLOW_LINKS);
    }
  }

  /** The probe and xattr scripts, copied to a test directory. */
  static final class Tools {
    private Tools() {}

    static Path copyResource(String name, Path directory) throws IOException {
      Path target = directory.resolve(name);
      try (InputStream in = MountedLayerTest.class.getResourceAsStream(name)) {
        Files.copy(in, target);
      }
      return target;
    }
  }
}
