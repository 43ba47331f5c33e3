package dev.jsoci.fs;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fs.TocEntryBuilder.directory;
import static dev.jsoci.fs.TocEntryBuilder.entry;
import static dev.jsoci.fs.TocEntryBuilder.file;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.TocEntry;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Operations of a layer filesystem over hand-made TOC entries and an in-memory tar stream. */
class LayerFileSystemTest {
  private static final String LAYER = "sha256:test";

  /** The stream below is no tar, so these tests turn the tar header check off. */
  private static final FileSystemOptions UNVERIFIED =
      FileSystemOptions.builder().verifyTarHeaders(false).build();

  /** A fake tar stream: byte {@code i} is {@code i % 251}, so every range has distinct content. */
  private static final byte[] STREAM = new byte[1 << 20];

  static {
    for (int i = 0; i < STREAM.length; i++) {
      STREAM[i] = (byte) (i % 251);
    }
  }

  private final ExecutorService testThreads = Executors.newCachedThreadPool();

  @AfterEach
  void stopTestThreads() {
    testThreads.shutdownNow();
  }

  private static LayerFileSystem fileSystem(
      ContentReader reader, FileSystemOptions options, TocEntry... entries) throws Exception {
    return new LayerFileSystem(LayerTree.of(List.of(entries), LAYER), reader, options);
  }

  private static LayerFileSystem fileSystem(TocEntry... entries) throws Exception {
    return fileSystem(new ByteArrayContentReader(STREAM), UNVERIFIED, entries);
  }

  private static Node resolve(LayerFileSystem fileSystem, String path) throws ErrnoException {
    return fileSystem.resolve(path, UTF_8);
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.remaining()];
    buffer.duplicate().get(bytes);
    return bytes;
  }

  private static byte[] streamRange(int from, int length) {
    byte[] range = new byte[length];
    System.arraycopy(STREAM, from, range, 0, length);
    return range;
  }

  private static TocEntry fileAt(String name, long offset, long size) {
    return entry(name, EntryType.REGULAR).offset(offset).size(size).build();
  }

  @Test
  void read_returnsRangeOfFile() throws Exception {
    LayerFileSystem fs = fileSystem(fileAt("f", 1024, 10_000));
    Node f = resolve(fs, "/f");

    assertThat(bytes(fs.read(f, 0, 100))).isEqualTo(streamRange(1024, 100));
    assertThat(bytes(fs.read(f, 5000, 4096))).isEqualTo(streamRange(6024, 4096));
  }

  @Test
  void read_shortAtEndOfFile() throws Exception {
    LayerFileSystem fs = fileSystem(fileAt("f", 512, 300));
    Node f = resolve(fs, "/f");

    assertThat(bytes(fs.read(f, 200, 4096))).isEqualTo(streamRange(712, 100));
    assertThat(fs.read(f, 300, 4096).remaining()).isEqualTo(0);
    assertThat(fs.read(f, 1 << 20, 4096).remaining()).isEqualTo(0);
  }

  @Test
  void read_emptyFile_noReaderCall() throws Exception {
    ContentReader failing =
        (offset, destination) -> {
          throw new AssertionError("content reader called for an empty file");
        };
    LayerFileSystem fs = fileSystem(failing, UNVERIFIED, fileAt("e", 512, 0));

    assertThat(fs.read(resolve(fs, "/e"), 0, 4096).remaining()).isEqualTo(0);
  }

  @Test
  void read_readerDeliversInPieces() throws Exception {
    ByteArrayContentReader whole = new ByteArrayContentReader(STREAM);
    ContentReader sevenAtATime =
        (offset, destination) -> {
          ByteBuffer piece = destination.slice().limit(Math.min(destination.remaining(), 7));
          int count = whole.read(offset, piece);
          if (count > 0) {
            destination.position(destination.position() + count);
          }
          return count;
        };
    LayerFileSystem fs = fileSystem(sevenAtATime, UNVERIFIED, fileAt("f", 512, 1000));

    assertThat(bytes(fs.read(resolve(fs, "/f"), 3, 500))).isEqualTo(streamRange(515, 500));
  }

  @Test
  void read_directory_isDirectory() throws Exception {
    LayerFileSystem fs = fileSystem(directory("d"));

    ErrnoException e = assertThrows(ErrnoException.class, () -> fs.read(resolve(fs, "/d"), 0, 1));

    assertThat(e.errno()).isEqualTo(Errno.EISDIR);
  }

  @Test
  void read_symlink_invalid() throws Exception {
    LayerFileSystem fs = fileSystem(entry("l", EntryType.SYMLINK).linkname("f").build());

    ErrnoException e = assertThrows(ErrnoException.class, () -> fs.read(resolve(fs, "/l"), 0, 1));

    assertThat(e.errno()).isEqualTo(Errno.EINVAL);
  }

  @Test
  void read_readerFails_io() throws Exception {
    ContentReader failing =
        (offset, destination) -> {
          throw new IOException("span 3 digest mismatch");
        };
    LayerFileSystem fs = fileSystem(failing, UNVERIFIED, fileAt("f", 512, 10));

    ErrnoException e = assertThrows(ErrnoException.class, () -> fs.read(resolve(fs, "/f"), 0, 10));

    assertThat(e.errno()).isEqualTo(Errno.EIO);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "read of layer sha256:test at offset 512 (10 bytes) failed:"
                + " java.io.IOException: span 3 digest mismatch");
  }

  @Test
  void read_readerThrowsUnchecked_io() throws Exception {
    ContentReader broken =
        (offset, destination) -> {
          throw new IllegalStateException("bug");
        };
    LayerFileSystem fs = fileSystem(broken, UNVERIFIED, fileAt("f", 512, 10));

    ErrnoException e = assertThrows(ErrnoException.class, () -> fs.read(resolve(fs, "/f"), 0, 10));

    assertThat(e.errno()).isEqualTo(Errno.EIO);
    assertThat(e).hasMessageThat().contains("failed unexpectedly");
  }

  @Test
  void read_streamEndsEarly_io() throws Exception {
    LayerFileSystem fs =
        fileSystem(new ByteArrayContentReader(new byte[600]), UNVERIFIED, fileAt("f", 512, 1000));

    ErrnoException e =
        assertThrows(ErrnoException.class, () -> fs.read(resolve(fs, "/f"), 0, 1000));

    assertThat(e.errno()).isEqualTo(Errno.EIO);
    assertThat(e).hasMessageThat().contains("layer content ends at offset 600, 912 bytes early");
  }

  @Test
  void read_hangingReader_ioAfterTimeoutThenRecovers() throws Exception {
    AtomicReference<CountDownLatch> gate = new AtomicReference<>(new CountDownLatch(1));
    CountDownLatch interrupted = new CountDownLatch(1);
    ByteArrayContentReader whole = new ByteArrayContentReader(STREAM);
    ContentReader hanging =
        (offset, destination) -> {
          try {
            gate.get().await();
          } catch (InterruptedException e) {
            interrupted.countDown();
            throw new InterruptedIOException("read cancelled");
          }
          return whole.read(offset, destination);
        };
    FileSystemOptions options = UNVERIFIED.toBuilder().readTimeout(Duration.ofMillis(300)).build();
    LayerFileSystem fs = fileSystem(hanging, options, fileAt("f", 512, 10));
    Node f = resolve(fs, "/f");

    long start = System.nanoTime();
    ErrnoException e = assertThrows(ErrnoException.class, () -> fs.read(f, 0, 10));
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;

    assertThat(e.errno()).isEqualTo(Errno.EIO);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo("read of layer sha256:test at offset 512 (10 bytes) timed out after PT0.3S");
    assertThat(elapsedMillis).isAtLeast(300);
    assertThat(elapsedMillis).isLessThan(3000);
    assertThat(interrupted.await(5, TimeUnit.SECONDS)).isTrue();

    gate.get().countDown();
    assertThat(bytes(fs.read(f, 0, 10))).isEqualTo(streamRange(512, 10));
  }

  @Test
  void read_blockedFile_othersProceed() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch blockedStarted = new CountDownLatch(1);
    ByteArrayContentReader whole = new ByteArrayContentReader(STREAM);
    List<TocEntry> entries = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      entries.add(fileAt("f" + i, 512 + i * 8192L, 8192));
    }
    long blockedOffset = entries.get(0).uncompressedOffset();
    ContentReader reader =
        (offset, destination) -> {
          if (offset == blockedOffset) {
            blockedStarted.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              throw new InterruptedIOException();
            }
          }
          return whole.read(offset, destination);
        };
    LayerFileSystem fs = fileSystem(reader, UNVERIFIED, entries.toArray(TocEntry[]::new));

    Future<byte[]> blocked = testThreads.submit(() -> bytes(fs.read(resolve(fs, "/f0"), 0, 8192)));
    assertThat(blockedStarted.await(5, TimeUnit.SECONDS)).isTrue();
    List<Future<byte[]>> others = new ArrayList<>();
    for (int i = 1; i < 16; i++) {
      String path = "/f" + i;
      others.add(testThreads.submit(() -> bytes(fs.read(resolve(fs, path), 0, 8192))));
    }

    for (int i = 1; i < 16; i++) {
      assertThat(others.get(i - 1).get(5, TimeUnit.SECONDS))
          .isEqualTo(streamRange(512 + i * 8192, 8192));
    }
    assertThat(blocked.isDone()).isFalse();
    release.countDown();
    assertThat(blocked.get(5, TimeUnit.SECONDS)).isEqualTo(streamRange(512, 8192));
  }

  @Test
  void open_forWriting_readOnly() throws Exception {
    LayerFileSystem fs = fileSystem(file("f"), directory("d"));

    ErrnoException onFile =
        assertThrows(ErrnoException.class, () -> fs.open(resolve(fs, "/f"), true));
    ErrnoException onDirectory =
        assertThrows(ErrnoException.class, () -> fs.open(resolve(fs, "/d"), true));

    assertThat(onFile.errno()).isEqualTo(Errno.EROFS);
    assertThat(onDirectory.errno()).isEqualTo(Errno.EISDIR);
    fs.open(resolve(fs, "/f"), false);
    fs.open(resolve(fs, "/d"), false);
  }

  @Test
  void open_device_io() throws Exception {
    LayerFileSystem fs = fileSystem(entry("c", EntryType.CHAR).device(1, 3).build());

    ErrnoException e = assertThrows(ErrnoException.class, () -> fs.open(resolve(fs, "/c"), false));

    assertThat(e.errno()).isEqualTo(Errno.EIO);
  }

  @Test
  void readlink_returnsTargetVerbatim() throws Exception {
    LayerFileSystem fs =
        fileSystem(
            entry("abs", EntryType.SYMLINK).linkname("/etc//passwd").build(),
            entry("rel", EntryType.SYMLINK).linkname("../x/./y").build());

    assertThat(fs.readlink(resolve(fs, "/abs"))).isEqualTo(ByteString.utf8("/etc//passwd"));
    assertThat(fs.readlink(resolve(fs, "/rel"))).isEqualTo(ByteString.utf8("../x/./y"));
  }

  @Test
  void readlink_notSymlink_invalid() throws Exception {
    LayerFileSystem fs = fileSystem(file("f"));

    ErrnoException e = assertThrows(ErrnoException.class, () -> fs.readlink(resolve(fs, "/f")));

    assertThat(e.errno()).isEqualTo(Errno.EINVAL);
  }

  @Test
  void resolve_errnosOfLocalFilesystem() throws Exception {
    LayerFileSystem fs = fileSystem(file("dir/f"));

    ErrnoException missing = assertThrows(ErrnoException.class, () -> resolve(fs, "/dir/missing"));
    ErrnoException throughFile = assertThrows(ErrnoException.class, () -> resolve(fs, "/dir/f/x"));

    assertThat(missing.errno()).isEqualTo(Errno.ENOENT);
    assertThat(throughFile.errno()).isEqualTo(Errno.ENOTDIR);
    assertThat(resolve(fs, "/")).isSameInstanceAs(fs.tree().root());
    assertThat(resolve(fs, "//dir//f")).isSameInstanceAs(resolve(fs, "/dir/f"));
  }

  @Test
  void resolve_invalidUtf8Name_foundByDecodedText() throws Exception {
    byte[] name = {'b', 'a', 'd', (byte) 0xff, 'x'};
    LayerFileSystem fs = fileSystem(entry(name, EntryType.REGULAR).size(3).build());
    String decoded = new String(name, StandardCharsets.UTF_8);

    Node node = resolve(fs, "/" + decoded);

    assertThat(node.size()).isEqualTo(3);
  }

  @Test
  void attributes_fromNode() throws Exception {
    LayerFileSystem fs =
        fileSystem(
            entry("f", EntryType.REGULAR)
                .size(5000)
                .mode(02750)
                .owner(10, 20)
                .modTime("2023-11-14T22:13:20.5Z")
                .build());

    NodeAttributes attributes = fs.attributes(resolve(fs, "/f"));

    assertThat(attributes)
        .isEqualTo(
            new NodeAttributes(5, 0102750, 1, 10, 20, 0, 5000, 16, 4096, 1700000000L, 500_000_000));
  }

  @Test
  void getxattr_storedValue() throws Exception {
    LayerFileSystem fs =
        fileSystem(entry("f", EntryType.REGULAR).pax("SCHILY.xattr.user.k", "value").build());
    ByteBuffer buffer = ByteBuffer.allocate(64);

    int length = fs.getxattr(resolve(fs, "/f"), ByteString.utf8("user.k"), buffer);

    assertThat(length).isEqualTo(5);
    assertThat(new String(buffer.array(), 0, length, UTF_8)).isEqualTo("value");
  }

  @Test
  void getxattr_sizeQueryAndTooSmallBuffer() throws Exception {
    LayerFileSystem fs =
        fileSystem(entry("f", EntryType.REGULAR).pax("SCHILY.xattr.user.k", "value").build());
    Node f = resolve(fs, "/f");

    int size = fs.getxattr(f, ByteString.utf8("user.k"), ByteBuffer.allocate(0));
    ErrnoException tooSmall =
        assertThrows(
            ErrnoException.class,
            () -> fs.getxattr(f, ByteString.utf8("user.k"), ByteBuffer.allocate(4)));

    assertThat(size).isEqualTo(5);
    assertThat(tooSmall.errno()).isEqualTo(Errno.ERANGE);
  }

  @Test
  void getxattr_missing_noData() throws Exception {
    LayerFileSystem fs = fileSystem(file("f"), file("d/.wh..wh..opq"));

    ErrnoException onFile =
        assertThrows(
            ErrnoException.class,
            () ->
                fs.getxattr(resolve(fs, "/f"), ByteString.utf8("user.x"), ByteBuffer.allocate(9)));
    ErrnoException otherNamespace =
        assertThrows(
            ErrnoException.class,
            () ->
                fs.getxattr(
                    resolve(fs, "/d"),
                    ByteString.utf8("user.overlay.opaque"),
                    ByteBuffer.allocate(9)));

    assertThat(onFile.errno()).isEqualTo(Errno.ENODATA);
    assertThat(otherNamespace.errno()).isEqualTo(Errno.ENODATA);
  }

  @Test
  void getxattr_opaqueDirectory_trustedByDefault() throws Exception {
    LayerFileSystem fs = fileSystem(directory("d"), file("d/.wh..wh..opq"));
    ByteBuffer buffer = ByteBuffer.allocate(8);

    int length = fs.getxattr(resolve(fs, "/d"), ByteString.utf8("trusted.overlay.opaque"), buffer);

    assertThat(length).isEqualTo(1);
    assertThat(buffer.get(0)).isEqualTo((byte) 'y');
  }

  @Test
  void xattrs_opaqueDirectory_userNamespace() throws Exception {
    FileSystemOptions options = UNVERIFIED.toBuilder().opaqueXattr(OpaqueXattr.USER).build();
    LayerFileSystem fs =
        fileSystem(
            new ByteArrayContentReader(STREAM),
            options,
            entry("d", EntryType.DIRECTORY).pax("SCHILY.xattr.user.a", "1").build(),
            file("d/.wh..wh..opq"));
    Node d = resolve(fs, "/d");
    ByteBuffer list = ByteBuffer.allocate(100);

    int valueLength =
        fs.getxattr(d, ByteString.utf8("user.overlay.opaque"), ByteBuffer.allocate(1));
    int listLength = fs.listxattr(d, list);

    assertThat(valueLength).isEqualTo(1);
    assertThat(new String(list.array(), 0, listLength, UTF_8))
        .isEqualTo("user.overlay.opaque\0user.a\0");
    ErrnoException trusted =
        assertThrows(
            ErrnoException.class,
            () ->
                fs.getxattr(d, ByteString.utf8("trusted.overlay.opaque"), ByteBuffer.allocate(1)));
    assertThat(trusted.errno()).isEqualTo(Errno.ENODATA);
  }

  @Test
  void listxattr_markerFirstThenSortedNamesOnce() throws Exception {
    LayerFileSystem fs =
        fileSystem(
            entry("d", EntryType.DIRECTORY)
                .pax("SCHILY.xattr.user.b", "2")
                .pax("SCHILY.xattr.trusted.overlay.opaque", "y")
                .pax("SCHILY.xattr.security.a", "1")
                .build(),
            file("d/.wh..wh..opq"));
    Node d = resolve(fs, "/d");
    String expected = "trusted.overlay.opaque\0security.a\0user.b\0";

    int size = fs.listxattr(d, ByteBuffer.allocate(0));
    ByteBuffer list = ByteBuffer.allocate(size);
    int length = fs.listxattr(d, list);
    ErrnoException tooSmall =
        assertThrows(ErrnoException.class, () -> fs.listxattr(d, ByteBuffer.allocate(size - 1)));

    assertThat(size).isEqualTo(expected.length());
    assertThat(new String(list.array(), 0, length, UTF_8)).isEqualTo(expected);
    assertThat(tooSmall.errno()).isEqualTo(Errno.ERANGE);
  }

  @Test
  void listxattr_none_empty() throws Exception {
    LayerFileSystem fs = fileSystem(file("f"));

    assertThat(fs.listxattr(resolve(fs, "/f"), ByteBuffer.allocate(0))).isEqualTo(0);
    assertThat(fs.listxattr(resolve(fs, "/f"), ByteBuffer.allocate(10))).isEqualTo(0);
  }

  @Test
  void getxattr_disabled_notImplemented() throws Exception {
    FileSystemOptions options = UNVERIFIED.toBuilder().xattrsDisabled(true).build();
    LayerFileSystem fs =
        fileSystem(
            new ByteArrayContentReader(STREAM),
            options,
            entry("f", EntryType.REGULAR).pax("SCHILY.xattr.user.k", "v").build());

    ErrnoException e =
        assertThrows(
            ErrnoException.class,
            () ->
                fs.getxattr(resolve(fs, "/f"), ByteString.utf8("user.k"), ByteBuffer.allocate(9)));

    assertThat(e.errno()).isEqualTo(Errno.ENOSYS);
  }

  @Test
  void statistics_describeLayer() throws Exception {
    LayerFileSystem fs = fileSystem(fileAt("a", 512, 10_000), file("b"), directory("d"));

    FileSystemStatistics statistics = fs.statistics();

    assertThat(statistics).isEqualTo(new FileSystemStatistics(4096, 3, 0, 4, 0, 255));
  }

  @Test
  void statistics_emptyLayer_nonZero() throws Exception {
    LayerFileSystem fs = fileSystem();

    assertThat(fs.statistics().blocks()).isEqualTo(1);
    assertThat(fs.statistics().files()).isEqualTo(1);
  }

  @Test
  void stateDirectory_reachableByNameOnly() throws Exception {
    AtomicReference<LayerStatus> status =
        new AtomicReference<>(new LayerStatus("sha256:abc", 1000, 250, null));
    FileSystemOptions options = UNVERIFIED.toBuilder().layerStatus(status::get).build();
    LayerFileSystem fs = fileSystem(new ByteArrayContentReader(STREAM), options, file("f"));

    Node directory = resolve(fs, "/.soci-snapshotter");
    Node stateFile = resolve(fs, "/.soci-snapshotter/sha256:abc.json");
    List<String> rootNames = new ArrayList<>();
    for (DirectoryEntry entry : fs.list(fs.tree().root())) {
      rootNames.add(entry.name().utf8());
    }

    assertThat(rootNames).containsExactly(".", "..", "f").inOrder();
    assertThat(fs.attributes(directory))
        .isEqualTo(new NodeAttributes(1, 040500, 1, 0, 0, 0, 0, 0, 4096, 0, 0));
    String json =
        "{\"digest\":\"sha256:abc\",\"size\":1000,\"fetchedSize\":250,\"fetchedPercent\":25}\n";
    assertThat(fs.attributes(stateFile))
        .isEqualTo(new NodeAttributes(2, 0100400, 1, 0, 0, 0, json.length(), 8, 4096, 0, 0));
    assertThat(new String(bytes(fs.read(stateFile, 0, 4096)), UTF_8)).isEqualTo(json);
    assertThat(fs.hasChangingContent(stateFile)).isTrue();
    assertThat(fs.nodeForIno(2)).isSameInstanceAs(stateFile);

    status.set(new LayerStatus("sha256:abc", 1000, 1000, "fetch \"span 2\" failed"));
    assertThat(new String(bytes(fs.read(stateFile, 0, 4096)), UTF_8))
        .isEqualTo(
            "{\"error\":\"fetch \\\"span 2\\\" failed\",\"digest\":\"sha256:abc\",\"size\":1000,"
                + "\"fetchedSize\":1000,\"fetchedPercent\":100}\n");
    ErrnoException other =
        assertThrows(ErrnoException.class, () -> resolve(fs, "/.soci-snapshotter/other.json"));
    assertThat(other.errno()).isEqualTo(Errno.ENOENT);
  }

  @Test
  void stateDirectory_absentWithoutStatus() throws Exception {
    LayerFileSystem fs = fileSystem(file("f"));

    ErrnoException e = assertThrows(ErrnoException.class, () -> resolve(fs, "/.soci-snapshotter"));

    assertThat(e.errno()).isEqualTo(Errno.ENOENT);
  }

  @Test
  void nodeForIno_findsTreeNodes() throws Exception {
    LayerFileSystem fs = fileSystem(file("a"), file("b"));

    assertThat(fs.nodeForIno(4)).isSameInstanceAs(fs.tree().root());
    assertThat(fs.nodeForIno(6)).isSameInstanceAs(resolve(fs, "/b"));
    assertThat(fs.nodeForIno(0)).isNull();
    assertThat(fs.nodeForIno(7)).isNull();
  }

  @Test
  void options_rejectNonPositiveTimeout() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> UNVERIFIED.toBuilder().readTimeout(Duration.ZERO).build());

    assertThat(e).hasMessageThat().isEqualTo("readTimeout must be positive: PT0S");
  }

  @Test
  void options_toBuilderKeepsSettings() {
    FileSystemOptions options =
        FileSystemOptions.builder()
            .readTimeout(Duration.ofSeconds(3))
            .opaqueXattr(OpaqueXattr.USER)
            .xattrsDisabled(true)
            .readExecutor(testThreads)
            .layerStatus(() -> new LayerStatus("sha256:abc", 1, 0, null))
            .verifyTarHeaders(false)
            .build();

    assertThat(options.toBuilder().build()).isEqualTo(options);
  }

  /** A reader that has the whole stream at hand and fails every read through the executor. */
  private static final class AtHandReader implements ContentReader {
    final List<Thread> atHandThreads = new ArrayList<>();

    @Override
    public int read(long uncompressedOffset, ByteBuffer destination) throws IOException {
      throw new IOException("read with a deadline although the bytes are at hand");
    }

    @Override
    public synchronized int readIfAtHand(long uncompressedOffset, ByteBuffer destination) {
      atHandThreads.add(Thread.currentThread());
      return new ByteArrayContentReader(STREAM).read(uncompressedOffset, destination);
    }
  }

  @Test
  void read_bytesAtHand_copiesOnCallingThread() throws Exception {
    AtHandReader reader = new AtHandReader();
    LayerFileSystem fs = fileSystem(reader, UNVERIFIED, fileAt("f", 1024, 10_000));
    ByteBuffer destination = ByteBuffer.allocateDirect(4096).position(100);

    int count = fs.read(resolve(fs, "/f"), 5000, destination);

    assertThat(count).isEqualTo(3996);
    assertThat(destination.position()).isEqualTo(4096);
    assertThat(bytes(destination.flip().position(100))).isEqualTo(streamRange(6024, 3996));
    assertThat(reader.atHandThreads).containsExactly(Thread.currentThread());
  }

  /** A reader of {@link #STREAM} whose tests override {@link #readIfAtHand}. */
  private abstract static class StreamReader implements ContentReader {
    @Override
    public int read(long uncompressedOffset, ByteBuffer destination) {
      return new ByteArrayContentReader(STREAM).read(uncompressedOffset, destination);
    }
  }

  @Test
  void read_bytesNotAtHand_readsWithDeadline() throws Exception {
    ContentReader reader =
        new StreamReader() {
          @Override
          public int readIfAtHand(long uncompressedOffset, ByteBuffer destination) {
            destination.put((byte) 1);
            return NOT_AT_HAND;
          }
        };
    LayerFileSystem fs = fileSystem(reader, UNVERIFIED, fileAt("f", 1024, 10_000));

    ByteBuffer bytes = fs.read(resolve(fs, "/f"), 0, 100);

    assertThat(bytes(bytes)).isEqualTo(streamRange(1024, 100));
  }

  @Test
  void read_atHandReaderFails_isEio() throws Exception {
    ContentReader reader =
        new StreamReader() {
          @Override
          public int readIfAtHand(long uncompressedOffset, ByteBuffer destination)
              throws IOException {
            throw new IOException("layer closed");
          }
        };
    LayerFileSystem fs = fileSystem(reader, UNVERIFIED, fileAt("f", 1024, 10_000));

    ErrnoException e = assertThrows(ErrnoException.class, () -> fs.read(resolve(fs, "/f"), 0, 10));

    assertThat(e.errno()).isEqualTo(Errno.EIO);
    assertThat(e).hasMessageThat().contains("layer closed");
  }
}
