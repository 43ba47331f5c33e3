package dev.jsoci.ztoc.tar;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.PaxRecord;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.UnsupportedLayerException;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Indexes archives written by GNU tar and by Python's tarfile, and compares every entry with
 * Python's own parse of the same archive: names, types, data offsets, sizes and pax records.
 * Skipped where {@code /usr/bin/tar} or {@code python3} is missing.
 */
class TarIndexerInteropTest {
  private static final Path GNU_TAR = Path.of("/usr/bin/tar");
  private static final HexFormat HEX = HexFormat.of();

  @TempDir Path temp;

  private static Path pythonTool;

  @BeforeAll
  static void copyPythonTool(@TempDir Path toolDir) throws IOException {
    pythonTool = toolDir.resolve("tarfile_tool.py");
    try (InputStream in = TarIndexerInteropTest.class.getResourceAsStream("tarfile_tool.py")) {
      Files.copy(in, pythonTool);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"gnu", "posix", "ustar", "v7"})
  void index_gnuTarArchive_matchesPython(String format) throws Exception {
    assumeTrue(Files.isExecutable(GNU_TAR), "GNU tar is not installed at " + GNU_TAR);
    Path tree = Files.createDirectory(temp.resolve("tree"));
    writeTree(tree, !format.equals("v7"), format.equals("gnu") || format.equals("posix"));
    Path archive = temp.resolve(format + ".tar");

    run(
        GNU_TAR.toString(),
        "--format=" + format,
        "-cf",
        archive.toString(),
        "-C",
        tree.toString(),
        ".");

    List<TocEntry> entries = assertMatchesPython(archive);
    assertThat(entries.size()).isAtLeast(12);
    if (format.equals("gnu") || format.equals("posix")) {
      assertThat(names(entries)).contains("./" + "long-directory-name/".repeat(15) + "file");
    }
  }

  @Test
  void index_gnuTarXattrs_keepsBinaryValues() throws Exception {
    assumeTrue(Files.isExecutable(GNU_TAR), "GNU tar is not installed at " + GNU_TAR);
    Path tree = Files.createDirectory(temp.resolve("tree"));
    Path file = Files.writeString(tree.resolve("capable"), "binary");
    // setfattr is often missing; Python's os.setxattr makes the same system call.
    String result =
        python(
            "-c",
            "import os,sys\n"
                + "try:\n"
                + "  os.setxattr(sys.argv[1], 'user.binary', b'\\x00\\xff=\\n')\n"
                + "  print('ok')\n"
                + "except OSError as e:\n"
                + "  print(e)\n",
            file.toString());
    assumeTrue(result.strip().equals("ok"), "user xattrs not supported here: " + result);
    Path archive = temp.resolve("xattrs.tar");

    run(
        GNU_TAR.toString(),
        "--format=posix",
        "--xattrs",
        "--xattrs-include=*",
        "-cf",
        archive.toString(),
        "-C",
        tree.toString(),
        "capable");

    List<TocEntry> entries = assertMatchesPython(archive);
    assertThat(entries.get(0).paxRecords())
        .contains(
            new PaxRecord(
                ByteString.utf8("SCHILY.xattr.user.binary"),
                ByteString.of(new byte[] {0, (byte) 0xff, '=', '\n'})));
  }

  @ParameterizedTest
  @ValueSource(strings = {"gnu", "posix 0.0", "posix 0.1", "posix 1.0"})
  void index_gnuTarSparseFile_isUnsupported(String variant) throws Exception {
    assumeTrue(Files.isExecutable(GNU_TAR), "GNU tar is not installed at " + GNU_TAR);
    Path tree = Files.createDirectory(temp.resolve("tree"));
    try (RandomAccessFile sparse = new RandomAccessFile(tree.resolve("sparse").toFile(), "rw")) {
      sparse.setLength(1 << 20);
      sparse.seek(600_000);
      sparse.write('x');
    }
    String[] parts = variant.split(" ");
    List<String> command = new ArrayList<>(List.of(GNU_TAR.toString(), "--format=" + parts[0]));
    command.add("--sparse");
    if (parts.length > 1) {
      command.add("--sparse-version=" + parts[1]);
    }
    Path archive = temp.resolve("sparse.tar");
    command.addAll(List.of("-cf", archive.toString(), "-C", tree.toString(), "sparse"));
    run(command.toArray(new String[0]));
    String listing = python(pythonTool.toString(), "list", archive.toString());
    assumeTrue(
        listing.contains("\tS\t") || listing.contains(hex("GNU.sparse")),
        "the file system kept no holes, so tar stored a plain file");

    UnsupportedLayerException e =
        assertThrows(
            UnsupportedLayerException.class,
            () -> TarIndexer.index(Files.newInputStream(archive), "sparse.tar"));

    assertThat(e).hasMessageThat().contains("sparse file");
  }

  @ParameterizedTest
  @ValueSource(strings = {"python-ustar.tar", "python-gnu.tar", "python-pax.tar"})
  void index_pythonTarfileArchive_matchesPython(String name) throws Exception {
    python(pythonTool.toString(), "make", temp.toString());

    List<TocEntry> entries = assertMatchesPython(temp.resolve(name));

    assertThat(names(entries)).containsAtLeast("etc/", "etc/hosts", "dev/null", "run/fifo");
    if (!name.equals("python-ustar.tar")) {
      TocEntry bigIds = find(entries, "big-ids");
      assertThat(bigIds.uid()).isEqualTo(5);
      assertThat(bigIds.gid()).isEqualTo(0);
      assertThat(find(entries, "old-file").modTime()).isEqualTo("1969-12-31T23:59:59Z");
    }
  }

  @Test
  void index_pythonPax_keepsExactValues() throws Exception {
    python(pythonTool.toString(), "make", temp.toString());

    List<TocEntry> entries = assertMatchesPython(temp.resolve("python-pax.tar"));

    TocEntry fraction = find(entries, "pax/fraction");
    assertThat(fraction.modTime()).isEqualTo("2023-11-14T22:13:20.25Z");
    assertThat(fraction.paxRecords())
        .contains(
            new PaxRecord(
                ByteString.utf8("SCHILY.xattr.user.binary"),
                ByteString.of(new byte[] {(byte) 0x80, 0, (byte) 0xff, '=', '\n'})));
    assertThat(fraction.paxRecords())
        .contains(new PaxRecord(ByteString.utf8("comment"), ByteString.EMPTY));
    byte[] latin = {
      'c', 'a', 'f', (byte) 0xc3, (byte) 0xa9, '-', 'l', 'a', 't', 'i', 'n', '1', '-', (byte) 0xff
    };
    assertThat(entries.stream().map(TocEntry::name).toList()).contains(ByteString.of(latin));
  }

  /** Indexes {@code archive} and checks every entry against Python's parse; returns the entries. */
  private List<TocEntry> assertMatchesPython(Path archive) throws Exception {
    String listing = python(pythonTool.toString(), "list", archive.toString());
    TarIndex index;
    try (InputStream in = Files.newInputStream(archive)) {
      index = TarIndexer.index(in, archive.getFileName().toString());
    }

    List<String[]> members = new ArrayList<>();
    long end = -1;
    for (String line : listing.split("\n")) {
      String[] fields = line.split("\t", -1);
      if (fields[0].equals("END")) {
        end = Long.parseLong(fields[1]);
      } else {
        members.add(fields);
      }
    }
    assertThat(index.entries()).hasSize(members.size());
    // GNU tar and Python end every archive with the two-block marker, then pad the record.
    assertThat(index.uncompressedArchiveSize()).isEqualTo(end + 1024);

    for (int i = 0; i < members.size(); i++) {
      String[] member = members.get(i);
      TocEntry entry = index.entries().get(i);
      String context = archive.getFileName() + " entry " + i + " " + entry.name();
      assertWithMessage(context).that(HEX.formatHex(pythonName(entry))).isEqualTo(member[0]);
      assertWithMessage(context).that(entry.type()).isEqualTo(entryType(member[1]));
      assertWithMessage(context)
          .that(entry.uncompressedOffset())
          .isEqualTo(Long.parseLong(member[3]));
      assertWithMessage(context)
          .that(entry.uncompressedSize())
          .isEqualTo(Long.parseLong(member[4]));
      assertWithMessage(context)
          .that(HEX.formatHex(entry.linkname().toByteArray()))
          .isEqualTo(member[5]);
      assertWithMessage(context).that(entry.mode()).isEqualTo(Long.parseLong(member[6]));
      assertWithMessage(context)
          .that(entry.uid())
          .isEqualTo(Long.parseLong(member[7]) & 0xFFFF_FFFFL);
      assertWithMessage(context)
          .that(entry.gid())
          .isEqualTo(Long.parseLong(member[8]) & 0xFFFF_FFFFL);
      assertWithMessage(context)
          .that(HEX.formatHex(entry.uname().toByteArray()))
          .isEqualTo(member[9]);
      assertWithMessage(context)
          .that(HEX.formatHex(entry.gname().toByteArray()))
          .isEqualTo(member[10]);
      if (!member[11].equals("?")) {
        assertWithMessage(context).that(entry.modTime()).isEqualTo(member[11]);
      }
      assertWithMessage(context).that(entry.devmajor()).isEqualTo(Long.parseLong(member[12]));
      assertWithMessage(context).that(entry.devminor()).isEqualTo(Long.parseLong(member[13]));
      assertWithMessage(context).that(records(entry)).isEqualTo(member[14]);
    }
    return index.entries();
  }

  /** Returns the name as Python's tarfile reports it: directories without trailing slashes. */
  private static byte[] pythonName(TocEntry entry) {
    byte[] name = entry.name().toByteArray();
    int length = name.length;
    if (entry.type() == EntryType.DIRECTORY) {
      while (length > 0 && name[length - 1] == '/') {
        length--;
      }
    }
    return java.util.Arrays.copyOf(name, length);
  }

  private static String records(TocEntry entry) {
    List<String> records = new ArrayList<>();
    for (PaxRecord record : entry.paxRecords()) {
      records.add(
          HEX.formatHex(record.key().toByteArray())
              + "="
              + HEX.formatHex(record.value().toByteArray()));
    }
    return String.join(",", records);
  }

  private static EntryType entryType(String pythonType) {
    switch (pythonType) {
      case "0":
      case "NUL":
        return EntryType.REGULAR;
      case "1":
        return EntryType.HARDLINK;
      case "2":
        return EntryType.SYMLINK;
      case "3":
        return EntryType.CHAR;
      case "4":
        return EntryType.BLOCK;
      case "5":
        return EntryType.DIRECTORY;
      case "6":
        return EntryType.FIFO;
      default:
        throw new AssertionError("unexpected type from Python: " + pythonType);
    }
  }

  private static List<String> names(List<TocEntry> entries) {
    return entries.stream().map(entry -> entry.name().utf8()).toList();
  }

  private static TocEntry find(List<TocEntry> entries, String name) {
    return entries.stream()
        .filter(entry -> entry.name().equals(ByteString.utf8(name)))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no entry " + name + " in " + names(entries)));
  }

  private static String hex(String text) {
    return HEX.formatHex(text.getBytes(UTF_8));
  }

  /**
   * Fills {@code tree} with files of sizes around the block size, directories, links and fixed
   * modification times, some with fractional seconds.
   */
  private void writeTree(Path tree, boolean specialFiles, boolean longNames) throws Exception {
    Random random = new Random(42);
    Path sub = Files.createDirectories(tree.resolve("sub/deeper"));
    for (int size : new int[] {0, 1, 511, 512, 513, 70_000}) {
      byte[] data = new byte[size];
      random.nextBytes(data);
      Files.write(tree.resolve("sub/f" + size), data);
    }
    Files.writeString(sub.resolve(".wh.removed"), "");
    Files.writeString(sub.resolve(".wh..wh..opq"), "");
    Files.createSymbolicLink(tree.resolve("symlink"), Path.of("sub/f1"));
    Files.createLink(tree.resolve("hardlink"), tree.resolve("sub/f513"));
    Path executable = Files.writeString(tree.resolve("run.sh"), "#!/bin/sh\n");
    executable.toFile().setExecutable(true, false);
    if (longNames) {
      Path deep = Files.createDirectories(tree.resolve("long-directory-name/".repeat(15)));
      Files.writeString(deep.resolve("file"), "deep");
      Files.createSymbolicLink(
          tree.resolve("long-target"), Path.of("../" + "target-segment/".repeat(12) + "end"));
    }
    if (specialFiles) {
      python(pythonTool.toString(), "tree", tree.toString());
    }

    Instant base = Instant.parse("2023-11-14T22:13:20.123456789Z");
    List<Path> paths;
    try (var walk = Files.walk(tree)) {
      paths = walk.sorted(java.util.Comparator.reverseOrder()).toList();
    }
    int i = 0;
    for (Path path : paths) {
      if (!Files.isSymbolicLink(path) && (Files.isRegularFile(path) || Files.isDirectory(path))) {
        Files.setLastModifiedTime(path, FileTime.from(base.plusSeconds(i++ * 3601L)));
      }
    }
  }

  private static String python(String... arguments) throws Exception {
    List<String> command = new ArrayList<>(List.of("python3"));
    command.addAll(List.of(arguments));
    return run(command.toArray(new String[0]));
  }

  /** Runs a command with a 60-second limit and returns its output; fails on a non-zero exit. */
  private static String run(String... command) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("LC_ALL", "C");
    Path stdout = Files.createTempFile("tar-interop", ".out");
    Path stderr = Files.createTempFile("tar-interop", ".err");
    try {
      builder.redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
      Process process;
      try {
        process = builder.start();
      } catch (IOException e) {
        assumeTrue(false, "cannot run " + command[0] + ": " + e.getMessage());
        throw e;
      }
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("timed out after 60 s: " + String.join(" ", command));
      }
      assertWithMessage(String.join(" ", command) + ": " + Files.readString(stderr))
          .that(process.exitValue())
          .isEqualTo(0);
      return Files.readString(stdout);
    } finally {
      Files.deleteIfExists(stdout);
      Files.deleteIfExists(stderr);
    }
  }
}
