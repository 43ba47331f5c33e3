package dev.jsoci.fs.fuse;

import com.kenai.jffi.MemoryIO;
import dev.jsoci.fs.DirectoryEntry;
import dev.jsoci.fs.Errno;
import dev.jsoci.fs.ErrnoException;
import dev.jsoci.fs.FileSystemListener;
import dev.jsoci.fs.FileSystemStatistics;
import dev.jsoci.fs.LayerFileSystem;
import dev.jsoci.fs.Node;
import dev.jsoci.fs.NodeAttributes;
import dev.jsoci.ztoc.ByteString;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import jnr.ffi.types.dev_t;
import jnr.ffi.types.gid_t;
import jnr.ffi.types.mode_t;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import jnr.ffi.types.uid_t;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.FuseOperations;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * The libfuse 2 high-level callbacks of one layer, served from a {@link LayerFileSystem}.
 *
 * <p>Callbacks run on the workers of a {@link FuseSessionLoop}, many at once. Each resolves its
 * path from the root, since the tree is immutable and lookups are hash probes. Expected failures
 * return their errno quietly; {@code EIO} and unexpected exceptions are logged through {@link
 * FailureLog}. Every mutation returns {@code EROFS}, although the {@code ro} mount option makes the
 * kernel reject most of them first.
 *
 * <p>{@link CallbackTable} registers these methods with libfuse, which applies its own defaults to
 * the operations left out (release and releasedir succeed, locks stay local to the kernel).
 */
final class LayerFuseAdapter {
  private static final Logger logger = LoggerFactory.getLogger(LayerFuseAdapter.class);

  // Linux values of the open(2) flags and access(2) mode the callbacks inspect.
  private static final int O_ACCMODE = 03;
  private static final int O_RDONLY = 0;
  private static final int O_TRUNC = 01000;
  private static final int W_OK = 2;

  /** Linux's XATTR_SIZE_MAX and XATTR_LIST_MAX: no value or name list is longer. */
  private static final int XATTR_MAX_BYTES = 65536;

  /** Linux's NAME_MAX: longer names cannot be looked up, so listings skip them. */
  private static final int NAME_MAX = 255;

  /**
   * Offset of the bit-field word of libfuse 2's {@code struct fuse_file_info} on 64-bit Linux,
   * after {@code int flags}, {@code unsigned long fh_old} and {@code int writepage}. Bit 0 is
   * {@code direct_io}. jnr-fuse declares these bits as padding, so they are written directly.
   */
  private static final int FILE_INFO_BITS_OFFSET = 20;

  private static final int DIRECT_IO_BIT = 1;

  private final LayerFileSystem fileSystem;
  private final String layer;
  private final Charset charset;
  private final FailureLog failures;
  private final FileSystemListener listener;

  /** Whether every callback is logged at info level ({@code [fuse] log_fuse_operations}). */
  private final boolean logOperations;

  /** Whether every callback is logged at trace level ({@code debug}). */
  private final boolean traceOperations;

  /** Whether callbacks are timed: without a listener or operation log the clock is not read. */
  private final boolean timed;

  private final CompletableFuture<Void> initialized = new CompletableFuture<>();

  private final FuseOperations fuseOperations =
      new FuseOperations(jnr.ffi.Runtime.getSystemRuntime());

  /** The callbacks in {@link #fuseOperations}; libfuse calls them while this adapter lives. */
  @SuppressWarnings("unused")
  private final List<Object> callbacks;

  /**
   * Creates the callbacks of one layer. Paths reach the callbacks as ISO-8859-1 text, one char per
   * byte, through {@link CallbackTable}.
   */
  LayerFuseAdapter(LayerFileSystem fileSystem) {
    this.fileSystem = fileSystem;
    this.layer = fileSystem.layer();
    this.charset = CallbackTable.PATH_CHARSET;
    this.failures = new FailureLog(logger, layer, Duration.ofSeconds(10), System::nanoTime);
    this.listener = fileSystem.options().listener();
    this.logOperations = fileSystem.options().logOperations();
    this.traceOperations =
        !logOperations && fileSystem.options().traceOperations() && logger.isTraceEnabled();
    this.timed = listener != FileSystemListener.NONE || logOperations || traceOperations;
    this.callbacks = CallbackTable.install(this, fuseOperations);
  }

  /**
   * Completes when libfuse handles the kernel's INIT request; the mount serves requests from then.
   */
  CompletableFuture<Void> initialized() {
    return initialized;
  }

  /** Returns the {@code struct fuse_operations} that points at these callbacks. */
  Pointer operations() {
    return Struct.getMemory(fuseOperations);
  }

  /** Returns the size of {@link #operations} in bytes. */
  long operationsSize() {
    return Struct.size(fuseOperations);
  }

  public @Nullable Pointer init(Pointer connection) {
    logger.debug("fuse session initialized: layer={}", layer);
    initialized.complete(null);
    return null;
  }

  public void destroy(Pointer initResult) {
    logger.debug("fuse session ended: layer={}", layer);
  }

  public int getattr(String path, FileStat stat) {
    return call("getattr", path, () -> fillStat(stat, fileSystem.attributes(resolve(path))));
  }

  public int fgetattr(String path, FileStat stat, FuseFileInfo fileInfo) {
    return call(
        "fgetattr", path, () -> fillStat(stat, fileSystem.attributes(node(path, fileInfo))));
  }

  private static int fillStat(FileStat stat, NodeAttributes attributes) {
    stat.st_ino.set(attributes.ino());
    stat.st_mode.set(attributes.mode());
    stat.st_nlink.set(attributes.nlink());
    stat.st_uid.set(attributes.uid());
    stat.st_gid.set(attributes.gid());
    stat.st_rdev.set(attributes.rdev());
    stat.st_size.set(attributes.sizeBytes());
    stat.st_blksize.set(attributes.blockSizeBytes());
    stat.st_blocks.set(attributes.blocks());
    stat.st_mtim.tv_sec.set(attributes.mtimeSeconds());
    stat.st_mtim.tv_nsec.set(attributes.mtimeNanos());
    // A layer stores no access or change time; both stay the epoch.
    stat.st_atim.tv_sec.set(0);
    stat.st_atim.tv_nsec.set(0);
    stat.st_ctim.tv_sec.set(0);
    stat.st_ctim.tv_nsec.set(0);
    return 0;
  }

  public int readlink(String path, Pointer buffer, @size_t long size) {
    return call(
        "readlink",
        path,
        () -> {
          ByteString target = fileSystem.readlink(resolve(path));
          if (size <= 0) {
            return 0;
          }
          // libfuse expects a NUL-terminated string, truncated to fit, and 0 on success.
          int length = (int) Math.min(target.size(), size - 1);
          buffer.put(0, target.toByteArray(), 0, length);
          buffer.putByte(length, (byte) 0);
          return 0;
        });
  }

  public int open(String path, FuseFileInfo fileInfo) {
    return call(
        "open",
        path,
        () -> {
          Node node = resolve(path);
          int flags = fileInfo.flags.get();
          boolean forWriting = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0;
          fileSystem.open(node, forWriting);
          fileInfo.fh.set(node.ino());
          if (fileSystem.hasChangingContent(node)) {
            // The page cache would keep serving the first version and the first size.
            Pointer memory = Struct.getMemory(fileInfo);
            int bits = memory.getInt(FILE_INFO_BITS_OFFSET);
            memory.putInt(FILE_INFO_BITS_OFFSET, bits | DIRECT_IO_BIT);
          }
          return 0;
        });
  }

  public int read(
      String path, Pointer buffer, @size_t long size, @off_t long offset, FuseFileInfo fileInfo) {
    return call(
        "read",
        path,
        () -> {
          Node node = node(path, fileInfo);
          int length = (int) Math.min(size, Integer.MAX_VALUE);
          if (!buffer.isDirect()) {
            // Memory on the Java heap, as tests pass; libfuse always passes native memory.
            ByteBuffer bytes = fileSystem.read(node, offset, length);
            int count = bytes.remaining();
            buffer.put(0, bytes.array(), bytes.arrayOffset() + bytes.position(), count);
            return count;
          }
          // A view of libfuse's reply buffer, valid during this call only.
          ByteBuffer destination =
              MemoryIO.getInstance().newDirectByteBuffer(buffer.address(), length);
          return fileSystem.read(node, offset, destination);
        });
  }

  /** Returns the node an open file handle names, or the node at {@code path} without one. */
  private Node node(String path, FuseFileInfo fileInfo) throws ErrnoException {
    Node node = fileSystem.nodeForIno(fileInfo.fh.get());
    return node != null ? node : resolve(path);
  }

  public int statfs(String path, Statvfs statvfs) {
    return call(
        "statfs",
        path,
        () -> {
          FileSystemStatistics statistics = fileSystem.statistics();
          statvfs.f_bsize.set(statistics.blockSizeBytes());
          statvfs.f_frsize.set(statistics.blockSizeBytes());
          statvfs.f_blocks.set(statistics.blocks());
          statvfs.f_bfree.set(statistics.freeBlocks());
          statvfs.f_bavail.set(statistics.freeBlocks());
          statvfs.f_files.set(statistics.files());
          statvfs.f_ffree.set(statistics.freeFiles());
          statvfs.f_favail.set(statistics.freeFiles());
          statvfs.f_namemax.set(statistics.maxNameLength());
          return 0;
        });
  }

  public int opendir(String path, FuseFileInfo fileInfo) {
    return call(
        "opendir",
        path,
        () -> {
          Node node = resolve(path);
          if (!node.isDirectory()) {
            throw new ErrnoException(Errno.ENOTDIR, "not a directory: " + node);
          }
          return 0;
        });
  }

  /**
   * Fills a listing from {@code offset} on. Each entry carries its inode number, its file type
   * (overlayfs needs it to find whiteouts) and the offset of the next entry, {@code index + 1}, so
   * libfuse runs in its offset mode and {@code telldir}/{@code seekdir} work.
   */
  public int readdir(
      String path, Pointer buffer, FuseFillDir filler, @off_t long offset, FuseFileInfo fileInfo) {
    return call(
        "readdir",
        path,
        () -> {
          List<DirectoryEntry> entries = fileSystem.list(resolve(path));
          if (offset < 0 || offset >= entries.size()) {
            return 0;
          }
          FileStat stat = new FileStat(jnr.ffi.Runtime.getSystemRuntime());
          Pointer statMemory =
              Memory.allocateDirect(jnr.ffi.Runtime.getSystemRuntime(), Struct.size(stat), true);
          stat.useMemory(statMemory);
          ByteBuffer name = ByteBuffer.allocateDirect(NAME_MAX + 1);
          for (int index = (int) offset; index < entries.size(); index++) {
            DirectoryEntry entry = entries.get(index);
            if (entry.name().size() > NAME_MAX) {
              logger.debug(
                  "skipping a name longer than {} bytes: layer={} path={}", NAME_MAX, layer, path);
              continue;
            }
            stat.st_ino.set(entry.node().ino());
            stat.st_mode.set(entry.node().mode());
            name.clear();
            name.put(entry.name().asReadOnlyBuffer()).put((byte) 0).flip();
            if (filler.apply(buffer, name, statMemory, index + 1) != 0) {
              break;
            }
          }
          return 0;
        });
  }

  public int getxattr(String path, String name, Pointer value, @size_t long size) {
    return call(
        "getxattr",
        path,
        () -> {
          Node node = resolve(path);
          ByteBuffer destination = ByteBuffer.allocate((int) Math.min(size, XATTR_MAX_BYTES));
          int length =
              fileSystem.getxattr(node, ByteString.of(name.getBytes(charset)), destination);
          if (destination.capacity() > 0) {
            value.put(0, destination.array(), 0, length);
          }
          return length;
        });
  }

  public int listxattr(String path, Pointer list, @size_t long size) {
    return call(
        "listxattr",
        path,
        () -> {
          Node node = resolve(path);
          ByteBuffer destination = ByteBuffer.allocate((int) Math.min(size, XATTR_MAX_BYTES));
          int length = fileSystem.listxattr(node, destination);
          if (destination.capacity() > 0) {
            list.put(0, destination.array(), 0, length);
          }
          return length;
        });
  }

  public int access(String path, int mask) {
    return call(
        "access",
        path,
        () -> {
          resolve(path);
          if ((mask & W_OK) != 0) {
            throw new ErrnoException(Errno.EROFS, "layer " + layer + " is read-only");
          }
          return 0;
        });
  }

  // Mutations: a layer never changes.

  public int mknod(String path, @mode_t long mode, @dev_t long rdev) {
    return readOnly("mknod", path);
  }

  public int mkdir(String path, @mode_t long mode) {
    return readOnly("mkdir", path);
  }

  public int unlink(String path) {
    return readOnly("unlink", path);
  }

  public int rmdir(String path) {
    return readOnly("rmdir", path);
  }

  public int symlink(String target, String linkPath) {
    return readOnly("symlink", linkPath);
  }

  public int rename(String oldPath, String newPath) {
    return readOnly("rename", oldPath);
  }

  public int link(String target, String linkPath) {
    return readOnly("link", linkPath);
  }

  public int chmod(String path, @mode_t long mode) {
    return readOnly("chmod", path);
  }

  public int chown(String path, @uid_t long uid, @gid_t long gid) {
    return readOnly("chown", path);
  }

  public int truncate(String path, @off_t long size) {
    return readOnly("truncate", path);
  }

  public int ftruncate(String path, @off_t long size, FuseFileInfo fileInfo) {
    return readOnly("ftruncate", path);
  }

  public int write(
      String path, Pointer buffer, @size_t long size, @off_t long offset, FuseFileInfo fileInfo) {
    return readOnly("write", path);
  }

  public int create(String path, @mode_t long mode, FuseFileInfo fileInfo) {
    return readOnly("create", path);
  }

  public int setxattr(String path, String name, Pointer value, @size_t long size, int flags) {
    return readOnly("setxattr", path);
  }

  public int removexattr(String path, String name) {
    return readOnly("removexattr", path);
  }

  public int utimens(String path, Timespec[] times) {
    return readOnly("utimens", path);
  }

  public int fallocate(
      String path, int mode, @off_t long offset, @off_t long length, FuseFileInfo fileInfo) {
    return readOnly("fallocate", path);
  }

  private int readOnly(String op, String path) {
    logger.trace("rejecting a mutation: op={} path={} layer={}", op, path, layer);
    listener.operationCompleted(op, 0, Errno.EROFS);
    return -ErrnoCodes.of(Errno.EROFS);
  }

  private Node resolve(String path) throws ErrnoException {
    return fileSystem.resolve(path, charset);
  }

  /** A callback body: returns the callback's non-negative result. */
  @FunctionalInterface
  private interface Operation {
    int run() throws ErrnoException;
  }

  /**
   * Runs one callback and turns its failure into a negated errno, logging what needs logging and
   * reporting the outcome to the listener.
   */
  private int call(String op, String path, Operation operation) {
    if (!traceOperations) {
      // With traceOperations, the line of the finished operation has these fields and more.
      logger.trace("fuse request: op={} path={} layer={}", op, path, layer);
    }
    long startNanos = timed ? System.nanoTime() : 0;
    @Nullable Errno error = null;
    try {
      return operation.run();
    } catch (ErrnoException e) {
      error = e.errno();
      if (e.errno() == Errno.EIO) {
        failures.failed(op, path, e.getMessage());
      } else {
        logger.trace(
            "fuse request failed: op={} path={} layer={} errno={} error={}",
            op,
            path,
            layer,
            e.errno(),
            e.getMessage());
      }
      return -ErrnoCodes.of(e.errno());
    } catch (RuntimeException | Error e) {
      // An Error such as OutOfMemoryError must not escape into jffi, which has no errno for it, so
      // the request gets EIO like any other unexpected failure.
      error = Errno.EIO;
      failures.unexpected(op, path, e);
      return -ErrnoCodes.of(Errno.EIO);
    } finally {
      if (timed) {
        long durationNanos = System.nanoTime() - startNanos;
        listener.operationCompleted(op, durationNanos, error);
        if (logOperations || traceOperations) {
          logger
              .atLevel(logOperations ? Level.INFO : Level.TRACE)
              .addKeyValue("op", op)
              .addKeyValue("path", path)
              .addKeyValue("layer", layer)
              .addKeyValue("errno", error == null ? "" : error.name())
              .addKeyValue("micros", durationNanos / 1000)
              .log("fuse operation");
        }
      }
    }
  }
}
