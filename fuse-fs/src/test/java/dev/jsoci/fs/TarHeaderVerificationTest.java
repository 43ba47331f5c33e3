package dev.jsoci.fs;

import static com.google.common.truth.Truth.assertThat;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocBuilder;
import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks each file's tar header against its TOC entry before the first read, on layers that GNU tar
 * writes. Skipped where {@code /usr/bin/tar} is missing.
 */
class TarHeaderVerificationTest {
  private static final Path GNU_TAR = Path.of("/usr/bin/tar");
  private static final String LONG_NAME = "long-" + "n".repeat(150);

  @TempDir Path temp;

  private Path source;
  private byte[] tar;
  private Ztoc ztoc;

  @BeforeEach
  void writeLayer() throws Exception {
    assumeTrue(Files.isExecutable(GNU_TAR), "GNU tar is not installed at " + GNU_TAR);
    source = Files.createDirectories(temp.resolve("source"));
    Files.writeString(source.resolve("a"), "content of a");
    Files.createDirectories(source.resolve("dir"));
    Files.writeString(source.resolve("dir/" + LONG_NAME), "long name");
    // GNU tar archives the first of the two names it meets as the file, the other as a link.
    Files.writeString(source.resolve("linked"), "linked content");
    Files.createLink(source.resolve("dir/link"), source.resolve("linked"));
    tar = archive("layer.tar");
    ztoc = new ZtocBuilder(65536, "test").build(new ByteArrayInputStream(tar), "layer");
  }

  private byte[] archive(String name) throws Exception {
    Path file = temp.resolve(name);
    Process process =
        new ProcessBuilder(
                GNU_TAR.toString(),
                "--format=posix",
                "--mtime=2023-11-14 22:13:20",
                "-cf",
                file.toString(),
                "-C",
                source.toString(),
                ".")
            .inheritIO()
            .start();
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isEqualTo(0);
    return Files.readAllBytes(file);
  }

  private static String read(LayerFileSystem fs, String path) throws ErrnoException {
    ByteBuffer bytes = fs.read(fs.resolve(path, UTF_8), 0, 4096);
    return UTF_8.decode(bytes).toString();
  }

  private static List<TocEntry> replace(
      List<TocEntry> entries, String name, UnaryOperator<TocEntry> change) {
    List<TocEntry> changed = new ArrayList<>();
    for (TocEntry entry : entries) {
      changed.add(entry.name().equals(ByteString.utf8(name)) ? change.apply(entry) : entry);
    }
    return changed;
  }

  private static TocEntry withUid(TocEntry entry, long uid) {
    return new TocEntry(
        entry.name(),
        entry.type(),
        entry.uncompressedOffset(),
        entry.uncompressedSize(),
        entry.linkname(),
        entry.mode(),
        uid,
        entry.gid(),
        entry.uname(),
        entry.gname(),
        entry.modTime(),
        entry.devmajor(),
        entry.devminor(),
        entry.paxRecords());
  }

  private static TocEntry withName(TocEntry entry, String name) {
    return new TocEntry(
        ByteString.utf8(name),
        entry.type(),
        entry.uncompressedOffset(),
        entry.uncompressedSize(),
        entry.linkname(),
        entry.mode(),
        entry.uid(),
        entry.gid(),
        entry.uname(),
        entry.gname(),
        entry.modTime(),
        entry.devmajor(),
        entry.devminor(),
        entry.paxRecords());
  }

  @Test
  void read_matchingHeaders_verifiedOncePerFile() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    ByteArrayContentReader layer = new ByteArrayContentReader(tar);
    ContentReader counting =
        (offset, destination) -> {
          calls.incrementAndGet();
          return layer.read(offset, destination);
        };
    LayerFileSystem fs =
        new LayerFileSystem(LayerTree.of(ztoc, "layer"), counting, FileSystemOptions.defaults());

    assertThat(read(fs, "/a")).isEqualTo("content of a");
    int afterFirstRead = calls.get();
    assertThat(read(fs, "/a")).isEqualTo("content of a");
    assertThat(read(fs, "/dir/link")).isEqualTo("linked content");
    assertThat(read(fs, "/linked")).isEqualTo("linked content");
    assertThat(read(fs, "/dir/" + LONG_NAME)).isEqualTo("long name");

    // The header region and the data: two calls the first time, one for each later read. Both
    // names of the hard link share one check.
    assertThat(afterFirstRead).isEqualTo(2);
    assertThat(calls.get()).isEqualTo(afterFirstRead + 1 + 2 + 1 + 2);
  }

  @Test
  void read_tocDiffersFromHeader_io() throws Exception {
    List<TocEntry> entries = replace(ztoc.entries(), "./a", entry -> withUid(entry, 4242));
    LayerFileSystem fs =
        new LayerFileSystem(
            LayerTree.of(entries, "layer"),
            new ByteArrayContentReader(tar),
            FileSystemOptions.defaults());

    ErrnoException e = assertThrows(ErrnoException.class, () -> read(fs, "/a"));

    assertThat(e.errno()).isEqualTo(Errno.EIO);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "file attributes do not match tar header: uid is 0 in the tar, 4242 in the toc"
                + " (layer layer, file \"./a\")");
  }

  @Test
  void read_nameDiffersFromHeader_io() throws Exception {
    List<TocEntry> entries = replace(ztoc.entries(), "./a", entry -> withName(entry, "./z"));
    LayerFileSystem fs =
        new LayerFileSystem(
            LayerTree.of(entries, "layer"),
            new ByteArrayContentReader(tar),
            FileSystemOptions.defaults());

    ErrnoException e = assertThrows(ErrnoException.class, () -> read(fs, "/z"));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "file name does not match tar header: \"./a\" in the tar, \"./z\" in the toc"
                + " (layer layer, file \"./z\")");
  }

  @Test
  void read_bytesOfOtherTar_io() throws Exception {
    Files.setAttribute(source.resolve("a"), "unix:mode", 0600);
    byte[] otherTar = archive("other.tar");
    AtomicReference<byte[]> layerBytes = new AtomicReference<>(otherTar);
    ContentReader reader =
        (offset, destination) ->
            new ByteArrayContentReader(layerBytes.get()).read(offset, destination);
    LayerFileSystem fs =
        new LayerFileSystem(LayerTree.of(ztoc, "layer"), reader, FileSystemOptions.defaults());

    ErrnoException e = assertThrows(ErrnoException.class, () -> read(fs, "/a"));
    layerBytes.set(tar);

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "file attributes do not match tar header: mode is 600 in the tar, 644 in the toc"
                + " (layer layer, file \"./a\")");
    assertThat(read(fs, "/a")).isEqualTo("content of a");
  }

  @Test
  void read_verificationOff_skipsHeader() throws Exception {
    List<TocEntry> entries = replace(ztoc.entries(), "./a", entry -> withUid(entry, 4242));
    FileSystemOptions options = FileSystemOptions.builder().verifyTarHeaders(false).build();
    LayerFileSystem fs =
        new LayerFileSystem(
            LayerTree.of(entries, "layer"), new ByteArrayContentReader(tar), options);

    assertThat(read(fs, "/a")).isEqualTo("content of a");
  }

  @Test
  void read_headerRegionInvalid_io() throws Exception {
    // An entry that claims its data starts right where its header should: no header at all.
    List<TocEntry> entries = new ArrayList<>(ztoc.entries());
    LayerFileSystem fs =
        new LayerFileSystem(
            LayerTree.of(
                replace(
                    entries,
                    "./a",
                    entry ->
                        new TocEntry(
                            entry.name(),
                            entry.type(),
                            0,
                            entry.uncompressedSize(),
                            entry.linkname(),
                            entry.mode(),
                            entry.uid(),
                            entry.gid(),
                            entry.uname(),
                            entry.gname(),
                            entry.modTime(),
                            entry.devmajor(),
                            entry.devminor(),
                            entry.paxRecords())),
                "layer"),
            new ByteArrayContentReader(tar),
            FileSystemOptions.defaults());

    ErrnoException e = assertThrows(ErrnoException.class, () -> read(fs, "/a"));

    assertThat(e.errno()).isEqualTo(Errno.EIO);
    assertThat(e).hasMessageThat().startsWith("file attributes do not match tar header:");
  }
}
