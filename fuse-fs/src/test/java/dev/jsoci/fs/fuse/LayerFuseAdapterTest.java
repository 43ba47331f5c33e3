package dev.jsoci.fs.fuse;

import static com.google.common.truth.Truth.assertThat;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import dev.jsoci.fs.ContentReader;
import dev.jsoci.fs.Errno;
import dev.jsoci.fs.FileSystemListener;
import dev.jsoci.fs.FileSystemOptions;
import dev.jsoci.fs.LayerFileSystem;
import dev.jsoci.fs.LayerStatus;
import dev.jsoci.fs.LayerTree;
import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.PaxRecord;
import dev.jsoci.ztoc.TocEntry;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * Calls the FUSE callbacks directly, without a mount, to check what they write into libfuse's
 * structures and the errno they return in cases the kernel filters out before they reach a mount.
 * Needs libfuse 2, which jnr-fuse loads; skipped without it.
 */
class LayerFuseAdapterTest {
  // Linux errno values.
  private static final int ENOENT = 2;
  private static final int EIO = 5;
  private static final int ENOTDIR = 20;
  private static final int EINVAL = 22;
  private static final int EROFS = 30;
  private static final int ERANGE = 34;
  private static final int ENODATA = 61;

  private static final Runtime RUNTIME = Runtime.getSystemRuntime();
  private static final byte[] CONTENT = "0123456789".repeat(100).getBytes(UTF_8);

  private LayerFuseAdapter adapter;

  @BeforeAll
  static void assumeLibfuse() {
    assumeTrue(
        Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libfuse.so.2"))
            || Files.exists(Path.of("/usr/lib/aarch64-linux-gnu/libfuse.so.2")),
        "needs libfuse 2 (libfuse.so.2; install the fuse package)");
  }

  @BeforeEach
  void createAdapter() throws Exception {
    adapter = adapter(FileSystemOptions.builder().verifyTarHeaders(false).build());
  }

  private static LayerFuseAdapter adapter(FileSystemOptions options) throws Exception {
    List<TocEntry> entries =
        List.of(
            entry(
                "dir/file",
                EntryType.REGULAR,
                512,
                1000,
                "",
                0640,
                List.of(
                    new PaxRecord(
                        ByteString.utf8("SCHILY.xattr.user.k"), ByteString.utf8("value")))),
            entry("dir/link", EntryType.SYMLINK, 2048, 0, "file-with-a-long-name", 0777, List.of()),
            entry("dir/.wh.gone", EntryType.REGULAR, 2560, 0, "", 0644, List.of()),
            entry("dir/sub/x", EntryType.REGULAR, 3072, 0, "", 0644, List.of()));
    ContentReader reader =
        (offset, destination) -> {
          int start = (int) offset - 512;
          int count = Math.min(destination.remaining(), CONTENT.length - start);
          destination.put(CONTENT, start, count);
          return count;
        };
    LayerFileSystem fileSystem =
        new LayerFileSystem(LayerTree.of(entries, "layer"), reader, options);
    return new LayerFuseAdapter(fileSystem);
  }

  private static TocEntry entry(
      String name,
      EntryType type,
      long offset,
      long size,
      String linkname,
      long mode,
      List<PaxRecord> pax) {
    return new TocEntry(
        ByteString.utf8(name),
        type,
        offset,
        size,
        ByteString.utf8(linkname),
        mode,
        1000,
        100,
        ByteString.EMPTY,
        ByteString.EMPTY,
        "2023-11-14T22:13:20.25Z",
        0,
        0,
        pax);
  }

  private static Pointer memory(int size) {
    return Memory.allocateDirect(RUNTIME, size, true);
  }

  private static FileStat stat() {
    return FileStat.of(memory(256));
  }

  private static FuseFileInfo fileInfo(int flags) {
    FuseFileInfo fileInfo = FuseFileInfo.of(memory(64));
    fileInfo.flags.set(flags);
    return fileInfo;
  }

  @Test
  void getattr_fillsStat() {
    FileStat stat = stat();

    int result = adapter.getattr("/dir/file", stat);

    assertThat(result).isEqualTo(0);
    assertThat(stat.st_ino.longValue()).isEqualTo(6);
    assertThat(stat.st_mode.intValue()).isEqualTo(0100640);
    assertThat(stat.st_nlink.intValue()).isEqualTo(1);
    assertThat(stat.st_uid.longValue()).isEqualTo(1000);
    assertThat(stat.st_gid.longValue()).isEqualTo(100);
    assertThat(stat.st_size.longValue()).isEqualTo(1000);
    assertThat(stat.st_blksize.intValue()).isEqualTo(4096);
    assertThat(stat.st_blocks.longValue()).isEqualTo(8);
    assertThat(stat.st_mtim.tv_sec.longValue()).isEqualTo(1700000000L);
    assertThat(stat.st_mtim.tv_nsec.longValue()).isEqualTo(250_000_000L);
    assertThat(stat.st_atim.tv_sec.longValue()).isEqualTo(0);
    assertThat(stat.st_ctim.tv_sec.longValue()).isEqualTo(0);
  }

  @Test
  void getattr_errnos() {
    assertThat(adapter.getattr("/dir/missing", stat())).isEqualTo(-ENOENT);
    assertThat(adapter.getattr("/dir/file/x", stat())).isEqualTo(-ENOTDIR);
    assertThat(adapter.getattr("/dir/.wh.gone", stat())).isEqualTo(-ENOENT);
    assertThat(adapter.getattr("/dir/gone", stat())).isEqualTo(0);
  }

  @Test
  void mutations_readOnly() {
    FuseFileInfo fileInfo = fileInfo(0);
    Pointer buffer = memory(16);

    assertThat(adapter.mknod("/dir/n", 0100644, 0)).isEqualTo(-EROFS);
    assertThat(adapter.mkdir("/dir/n", 0755)).isEqualTo(-EROFS);
    assertThat(adapter.unlink("/dir/file")).isEqualTo(-EROFS);
    assertThat(adapter.rmdir("/dir/sub")).isEqualTo(-EROFS);
    assertThat(adapter.symlink("target", "/dir/n")).isEqualTo(-EROFS);
    assertThat(adapter.rename("/dir/file", "/dir/n")).isEqualTo(-EROFS);
    assertThat(adapter.link("/dir/file", "/dir/n")).isEqualTo(-EROFS);
    assertThat(adapter.chmod("/dir/file", 0600)).isEqualTo(-EROFS);
    assertThat(adapter.chown("/dir/file", 1, 1)).isEqualTo(-EROFS);
    assertThat(adapter.truncate("/dir/file", 0)).isEqualTo(-EROFS);
    assertThat(adapter.ftruncate("/dir/file", 0, fileInfo)).isEqualTo(-EROFS);
    assertThat(adapter.write("/dir/file", buffer, 1, 0, fileInfo)).isEqualTo(-EROFS);
    assertThat(adapter.create("/dir/n", 0100644, fileInfo)).isEqualTo(-EROFS);
    assertThat(adapter.setxattr("/dir/file", "user.k", buffer, 1, 0)).isEqualTo(-EROFS);
    assertThat(adapter.removexattr("/dir/file", "user.k")).isEqualTo(-EROFS);
    assertThat(adapter.utimens("/dir/file", new Timespec[0])).isEqualTo(-EROFS);
    assertThat(adapter.fallocate("/dir/file", 0, 0, 1, fileInfo)).isEqualTo(-EROFS);
  }

  @Test
  void open_forWriting_readOnly() {
    // O_WRONLY 01, O_RDWR 02, O_TRUNC 01000.
    assertThat(adapter.open("/dir/file", fileInfo(01))).isEqualTo(-EROFS);
    assertThat(adapter.open("/dir/file", fileInfo(02))).isEqualTo(-EROFS);
    assertThat(adapter.open("/dir/file", fileInfo(01000))).isEqualTo(-EROFS);
    assertThat(adapter.access("/dir/file", 2)).isEqualTo(-EROFS);
    assertThat(adapter.access("/dir/file", 4)).isEqualTo(0);
    assertThat(adapter.access("/dir/missing", 4)).isEqualTo(-ENOENT);
  }

  @Test
  void read_heapMemory_copiesIntoIt() {
    FuseFileInfo fileInfo = fileInfo(0);
    Pointer buffer = Memory.allocate(RUNTIME, 4096);
    assertThat(buffer.isDirect()).isFalse();

    assertThat(adapter.open("/dir/file", fileInfo)).isEqualTo(0);
    int count = adapter.read("/ignored", buffer, 4096, 995, fileInfo);

    assertThat(count).isEqualTo(5);
    byte[] bytes = new byte[5];
    buffer.get(0, bytes, 0, 5);
    assertThat(new String(bytes, UTF_8)).isEqualTo("56789");
  }

  @Test
  void openAndRead_throughHandle() {
    FuseFileInfo fileInfo = fileInfo(0);
    Pointer buffer = memory(4096);

    assertThat(adapter.open("/dir/file", fileInfo)).isEqualTo(0);
    int count = adapter.read("/ignored", buffer, 4096, 995, fileInfo);

    assertThat(fileInfo.fh.longValue()).isEqualTo(6);
    assertThat(count).isEqualTo(5);
    byte[] bytes = new byte[5];
    buffer.get(0, bytes, 0, 5);
    assertThat(new String(bytes, UTF_8)).isEqualTo("56789");
  }

  @Test
  void read_directory_isDirectory() {
    assertThat(adapter.read("/dir", memory(16), 16, 0, fileInfo(0))).isEqualTo(-21);
  }

  @Test
  void readlink_truncatesToBuffer() {
    Pointer buffer = memory(64);

    assertThat(adapter.readlink("/dir/link", buffer, 64)).isEqualTo(0);
    assertThat(buffer.getString(0)).isEqualTo("file-with-a-long-name");
    assertThat(adapter.readlink("/dir/link", buffer, 5)).isEqualTo(0);
    assertThat(buffer.getString(0)).isEqualTo("file");
    assertThat(adapter.readlink("/dir/file", buffer, 64)).isEqualTo(-EINVAL);
  }

  @Test
  void getxattr_bufferProtocol() {
    Pointer buffer = memory(16);

    assertThat(adapter.getxattr("/dir/file", "user.k", buffer, 0)).isEqualTo(5);
    assertThat(adapter.getxattr("/dir/file", "user.k", buffer, 4)).isEqualTo(-ERANGE);
    assertThat(adapter.getxattr("/dir/file", "user.k", buffer, 16)).isEqualTo(5);
    assertThat(buffer.getString(0, 5, UTF_8)).isEqualTo("value");
    assertThat(adapter.getxattr("/dir/file", "user.other", buffer, 16)).isEqualTo(-ENODATA);
  }

  @Test
  void listxattr_bufferProtocol() {
    Pointer buffer = memory(16);

    assertThat(adapter.listxattr("/dir/file", buffer, 0)).isEqualTo(7);
    assertThat(adapter.listxattr("/dir/file", buffer, 6)).isEqualTo(-ERANGE);
    assertThat(adapter.listxattr("/dir/file", buffer, 16)).isEqualTo(7);
    assertThat(buffer.getString(0)).isEqualTo("user.k");
  }

  @Test
  void statfs_nonZero() {
    Statvfs statvfs = Statvfs.of(memory(256));

    assertThat(adapter.statfs("/", statvfs)).isEqualTo(0);

    assertThat(statvfs.f_bsize.longValue()).isEqualTo(4096);
    assertThat(statvfs.f_frsize.longValue()).isEqualTo(4096);
    // dir/file and dir/link take one 4096-byte block each.
    assertThat(statvfs.f_blocks.longValue()).isEqualTo(2);
    assertThat(statvfs.f_files.longValue()).isEqualTo(7);
    assertThat(statvfs.f_namemax.longValue()).isEqualTo(255);
  }

  /** A filler that records each entry and reports a full buffer after {@code capacity}. */
  private static final class RecordingFiller implements FuseFillDir {
    final List<String> names = new ArrayList<>();
    final List<Integer> modes = new ArrayList<>();
    final List<Long> offsets = new ArrayList<>();
    private final int capacity;

    RecordingFiller(int capacity) {
      this.capacity = capacity;
    }

    @Override
    public int apply(Pointer buffer, ByteBuffer name, Pointer stat, long nextOffset) {
      if (names.size() == capacity) {
        return 1;
      }
      ByteBuffer bytes = name.duplicate();
      StringBuilder text = new StringBuilder();
      while (bytes.get(bytes.position()) != 0) {
        text.append((char) bytes.get());
      }
      names.add(text.toString());
      modes.add(FileStat.of(stat).st_mode.intValue());
      offsets.add(nextOffset);
      return 0;
    }
  }

  @Test
  void readdir_typesAndResumableOffsets() {
    RecordingFiller all = new RecordingFiller(100);
    assertThat(adapter.readdir("/dir", memory(8), all, 0, fileInfo(0))).isEqualTo(0);

    assertThat(all.names).containsExactly(".", "..", "file", "gone", "link", "sub").inOrder();
    assertThat(all.modes)
        .containsExactly(040755, 040755, 0100640, 0020000, 0120777, 040755)
        .inOrder();
    assertThat(all.offsets).containsExactly(1L, 2L, 3L, 4L, 5L, 6L).inOrder();

    // A full buffer after three entries; libfuse resumes from the last offset it kept.
    RecordingFiller first = new RecordingFiller(3);
    adapter.readdir("/dir", memory(8), first, 0, fileInfo(0));
    RecordingFiller rest = new RecordingFiller(100);
    adapter.readdir("/dir", memory(8), rest, first.offsets.get(2), fileInfo(0));
    assertThat(first.names).containsExactly(".", "..", "file").inOrder();
    assertThat(rest.names).containsExactly("gone", "link", "sub").inOrder();

    RecordingFiller past = new RecordingFiller(100);
    assertThat(adapter.readdir("/dir", memory(8), past, 6, fileInfo(0))).isEqualTo(0);
    assertThat(past.names).isEmpty();
    assertThat(adapter.readdir("/dir/file", memory(8), past, 0, fileInfo(0))).isEqualTo(-ENOTDIR);
    assertThat(adapter.opendir("/dir/file", fileInfo(0))).isEqualTo(-ENOTDIR);
  }

  @Test
  void unexpectedException_ioErrorLoggedOnce() throws Exception {
    FileSystemOptions options =
        FileSystemOptions.builder()
            .verifyTarHeaders(false)
            .layerStatus(
                new java.util.function.Supplier<>() {
                  private boolean first = true;

                  @Override
                  public LayerStatus get() {
                    if (first) {
                      first = false;
                      return new LayerStatus("sha256:abc", 1, 0, null);
                    }
                    throw new IllegalStateException("status source broken");
                  }
                })
            .build();
    LayerFuseAdapter broken = adapter(options);

    try (LogCapture log = new LogCapture(LayerFuseAdapter.class)) {
      int first = broken.getattr("/.soci-snapshotter/sha256:abc.json", stat());
      int second = broken.getattr("/.soci-snapshotter/sha256:abc.json", stat());

      assertThat(first).isEqualTo(-EIO);
      assertThat(second).isEqualTo(-EIO);
      assertThat(log.messages(Level.WARN))
          .containsExactly(
              "unexpected failure, returning EIO: op=getattr"
                  + " path=/.soci-snapshotter/sha256:abc.json layer=layer suppressed=0");
      assertThat(log.messages(Level.DEBUG))
          .contains(
              "unexpected failure, returning EIO: op=getattr"
                  + " path=/.soci-snapshotter/sha256:abc.json layer=layer");
    }
  }

  @Test
  void listener_receivesEachOperationWithItsErrno() throws Exception {
    List<String> events = new CopyOnWriteArrayList<>();
    FileSystemListener listener =
        new FileSystemListener() {
          @Override
          public void operationCompleted(
              String operation, long durationNanos, @Nullable Errno error) {
            events.add(operation + " " + (error == null ? "ok" : error.name()));
            assertThat(durationNanos).isAtLeast(0L);
          }
        };
    LayerFuseAdapter observed =
        adapter(FileSystemOptions.builder().verifyTarHeaders(false).listener(listener).build());

    observed.getattr("/dir/file", stat());
    observed.getattr("/dir/missing", stat());
    observed.read("/dir/file", memory(100), 100, 0, fileInfo(0));
    observed.mkdir("/dir/new", 0755);

    assertThat(events)
        .containsExactly("getattr ok", "getattr ENOENT", "read ok", "mkdir EROFS")
        .inOrder();
  }

  @Test
  void operationLogs_levelFollowsOptions() throws Exception {
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(LayerFuseAdapter.class);
    Level before = logger.getLevel();
    logger.setLevel(Level.TRACE);
    try (LogCapture log = new LogCapture(LayerFuseAdapter.class)) {
      LayerFuseAdapter traced =
          adapter(
              FileSystemOptions.builder().verifyTarHeaders(false).traceOperations(true).build());
      LayerFuseAdapter logged =
          adapter(
              FileSystemOptions.builder()
                  .verifyTarHeaders(false)
                  .logOperations(true)
                  .traceOperations(true)
                  .build());
      LayerFuseAdapter quiet = adapter(FileSystemOptions.builder().verifyTarHeaders(false).build());

      traced.getattr("/dir/file", stat());
      logged.getattr("/dir/missing", stat());
      quiet.getattr("/dir", stat());

      // The adapter logs other events at trace level too; one operation log is the traced one.
      assertThat(java.util.Collections.frequency(log.messages(Level.TRACE), "fuse operation"))
          .isEqualTo(1);
      assertThat(log.messages(Level.INFO)).containsExactly("fuse operation");
    } finally {
      logger.setLevel(before);
    }
  }
}
