package dev.jsoci.fs.fuse;

import dev.jsoci.ztoc.internal.NativeLibraries;
import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.annotations.In;
import jnr.ffi.provider.jffi.ClosureHelper;
import jnr.ffi.types.size_t;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One libfuse 2 session served on Java threads: {@code fuse_mount} and {@code fuse_new} set it up,
 * and workers call {@code fuse_session_receive_buf} and {@code fuse_session_process_buf} in a loop,
 * as libfuse's own {@code fuse_loop_mt} does on native threads.
 *
 * <p>Callbacks therefore run on threads already attached to the JVM. On libfuse's native workers,
 * jffi 1.3.13 attaches the thread to the JVM before each callback and detaches it afterwards (until
 * the thread has made 1000 callbacks), which creates a {@code java.lang.Thread} per request.
 *
 * <p>The pool grows as libfuse's does: when the last idle worker takes a request, another worker
 * starts, so a read that waits on the network never holds up other requests. A worker that
 * finishes a request while {@link #MAX_IDLE_WORKERS} others are idle ends. No signal handlers are
 * installed, unlike {@code fuse_main}.
 *
 * <p>The session ends when the kernel connection goes away (unmount, or the last open file of a
 * lazily detached mount closing): every blocked {@code read(2)} on {@code /dev/fuse} then fails
 * with {@code ENODEV}. The last worker to end closes the channel and destroys the session.
 */
final class FuseSessionLoop {
  private static final Logger logger = LoggerFactory.getLogger(FuseSessionLoop.class);

  /** Idle workers a session keeps. libfuse 2.9.9 keeps 10, but a node may mount 100 layers. */
  static final int MAX_IDLE_WORKERS = 4;

  /**
   * Workers a session runs at most. Requests beyond this wait in the kernel's queue until a
   * worker is free, as they would with a single-threaded loop.
   */
  static final int MAX_WORKERS = 128;

  private static final int EINTR = 4;

  /** The file name of libfuse 2 on Linux. */
  private static final String LIBFUSE = "libfuse.so.2";

  private static final AtomicInteger SESSION_NUMBERS = new AtomicInteger();

  private static final Duration DETACH_TIMEOUT = Duration.ofSeconds(10);

  /** {@code struct fuse_args}: int argc, char **argv, int allocated, on 64-bit Linux. */
  private static final int ARGS_SIZE = 24;

  private static final int ARGS_ARGV_OFFSET = 8;

  /**
   * {@code struct fuse_buf} of libfuse 2.9 on 64-bit Linux: size_t size, enum flags, void *mem,
   * int fd, off_t pos.
   */
  private static final int BUF_SIZE = 40;

  private static final int BUF_FLAGS_OFFSET = 8;
  private static final int BUF_MEM_OFFSET = 16;
  private static final int BUF_FD_OFFSET = 24;
  private static final int BUF_POS_OFFSET = 32;

  /**
   * The functions of libfuse 2 that serve a session one request at a time. Functions that libfuse
   * exports in several versions are bound through {@link Versioned} instead, because a lookup
   * without a version can return an old one. With libfuse 2.9.9, a plain {@code fuse_new} lookup
   * returns a compatibility function that rejects the arguments ("fuse: unknown option").
   */
  public interface LibFuseSession {
    void fuse_destroy(Pointer fuse);

    void fuse_opt_free_args(Pointer args);

    Pointer fuse_get_session(Pointer fuse);

    @size_t
    long fuse_chan_bufsize(Pointer channel);

    int fuse_session_receive_buf(Pointer session, Pointer buffer, Pointer channelCell);

    void fuse_session_process_buf(Pointer session, Pointer buffer, Pointer channel);

    int fuse_session_exited(Pointer session);

    void fuse_session_exit(Pointer session);
  }

  /** The dynamic linker's lookup of a symbol at a given version. */
  public interface LibDl {
    Pointer dlopen(String file, int mode);

    Pointer dlvsym(Pointer handle, String symbol, String version);

    String dlerror();
  }

  /** {@code struct fuse_chan *fuse_mount(const char *mountpoint, struct fuse_args *args)}. */
  @FunctionalInterface
  public interface FuseMountFunction {
    @Delegate
    Pointer call(@In byte[] mountPoint, Pointer args);
  }

  /** {@code void fuse_unmount(const char *mountpoint, struct fuse_chan *ch)}. */
  @FunctionalInterface
  public interface FuseUnmountFunction {
    @Delegate
    void call(@In byte[] mountPoint, Pointer channel);
  }

  /**
   * {@code struct fuse *fuse_new(struct fuse_chan *ch, struct fuse_args *args, const struct
   * fuse_operations *op, size_t op_size, void *user_data)}.
   */
  @FunctionalInterface
  public interface FuseNewFunction {
    @Delegate
    Pointer call(
        Pointer channel,
        Pointer args,
        Pointer operations,
        @size_t long operationsSize,
        Pointer userData);
  }

  /** The functions of libfuse 2.6 and later that libfuse 2.9 also exports in older versions. */
  private record Versioned(
      FuseMountFunction fuseMount, FuseUnmountFunction fuseUnmount, FuseNewFunction fuseNew) {
    private static final String VERSION = "FUSE_2.6";
    private static final int RTLD_NOW = 2;

    static Versioned load() {
      LibDl dl = NativeLibraries.loadFirst(LibDl.class, "libc.so.6", "libdl.so.2");
      Pointer handle = dl.dlopen(LIBFUSE, RTLD_NOW);
      if (handle == null) {
        throw new UnsatisfiedLinkError("cannot load " + LIBFUSE + ": " + dl.dlerror());
      }
      return new Versioned(
          function(dl, handle, "fuse_mount", FuseMountFunction.class),
          function(dl, handle, "fuse_unmount", FuseUnmountFunction.class),
          function(dl, handle, "fuse_new", FuseNewFunction.class));
    }

    private static <T> T function(LibDl dl, Pointer handle, String symbol, Class<T> type) {
      Pointer address = dl.dlvsym(handle, symbol, VERSION);
      if (address == null) {
        throw new UnsatisfiedLinkError(
            LIBFUSE + " has no " + symbol + "@" + VERSION + ": " + dl.dlerror());
      }
      ClosureHelper helper = ClosureHelper.getInstance();
      return type.cast(
          helper.getNativeConveter(type).fromNative(address, helper.getFromNativeContext()));
    }
  }

  private static final class Holder {
    static final LibFuseSession LIBRARY =
        NativeLibraries.loadFirst(LibFuseSession.class, LIBFUSE, "fuse");
    static final Versioned VERSIONED = Versioned.load();
  }

  private final LibFuseSession library;

  /** The callbacks' Java objects: the native closures do not keep them alive. */
  @SuppressWarnings("unused")
  private final LayerFuseAdapter callbacks;

  private final Runtime runtime;
  private final Path mountPointPath;
  private final byte[] mountPoint;
  /** The names of the workers, with a number per session because many mounts share a name. */
  private final String threadNamePrefix;
  private final Pointer channel;
  private final Pointer fuse;
  private final Pointer session;
  private final long bufferSize;
  private final CompletableFuture<Integer> ended = new CompletableFuture<>();
  private final AtomicInteger workerNumbers = new AtomicInteger();
  private final Object lock = new Object();

  /** Workers running; guarded by {@link #lock}. */
  private int workers;

  /** Workers waiting for a request or about to; guarded by {@link #lock}. */
  private int idle;

  /** Whether a worker has seen the session end; guarded by {@link #lock}. */
  private boolean exiting;

  private FuseSessionLoop(
      LibFuseSession library,
      LayerFuseAdapter callbacks,
      Path mountPointPath,
      byte[] mountPoint,
      Pointer channel,
      Pointer fuse,
      Pointer session) {
    this.library = library;
    this.callbacks = callbacks;
    this.runtime = Runtime.getRuntime(library);
    this.mountPointPath = mountPointPath;
    this.mountPoint = mountPoint;
    this.threadNamePrefix = "jsoci-fuse-" + SESSION_NUMBERS.incrementAndGet() + "-";
    this.channel = channel;
    this.fuse = fuse;
    this.session = session;
    this.bufferSize = library.fuse_chan_bufsize(channel);
  }

  /**
   * Mounts a filesystem with {@code callbacks} at {@code mountPoint} and starts serving it. mount(2) has succeeded when this returns, and the
   * kernel's INIT request is the first one the workers handle.
   *
   * @param options the {@code -o} options, comma-separated, for the mount and for libfuse
   * @param callbacks the callbacks to serve, kept reachable until the session ends
   * @throws IOException if libfuse rejects the options or cannot mount; it prints the reason on
   *     standard error
   */
  static FuseSessionLoop start(Path mountPoint, String options, LayerFuseAdapter callbacks)
      throws IOException {
    LibFuseSession library = Holder.LIBRARY;
    Versioned versioned = Holder.VERSIONED;
    Runtime runtime = Runtime.getRuntime(library);
    byte[] target = cString(mountPoint.toString(), pathCharset());

    // fuse_mount and fuse_new each take the options they know out of args and keep the rest, as
    // fuse_main does with the same arguments.
    List<Pointer> keepAlive = new ArrayList<>();
    Pointer args = arguments(runtime, keepAlive, "jsoci", "-o", options);
    Pointer channel = versioned.fuseMount().call(target, args);
    if (channel == null) {
      library.fuse_opt_free_args(args);
      throw new IOException(
          "fuse_mount failed at " + mountPoint + "; libfuse printed the reason on standard error");
    }
    Pointer fuse =
        versioned
            .fuseNew()
            .call(channel, args, callbacks.operations(), callbacks.operationsSize(), null);
    library.fuse_opt_free_args(args);
    Reference.reachabilityFence(keepAlive);
    if (fuse == null) {
      versioned.fuseUnmount().call(target, channel);
      throw new IOException(
          "fuse_new failed for "
              + mountPoint
              + " with options "
              + options
              + "; libfuse printed the reason on standard error");
    }

    FuseSessionLoop loop =
        new FuseSessionLoop(
            library,
            callbacks,
            mountPoint,
            target,
            channel,
            fuse,
            library.fuse_get_session(fuse));
    boolean started;
    synchronized (loop.lock) {
      started = loop.startWorkerLocked();
    }
    if (!started) {
      loop.release();
      throw new IOException("cannot start a thread to serve " + mountPoint);
    }
    return loop;
  }

  /**
   * Completes with 0 when the session has ended and its resources are freed, or with -1 if it ended
   * on an error reading {@code /dev/fuse}.
   */
  CompletableFuture<Integer> ended() {
    return ended;
  }

  /** Returns the number of workers running now. */
  int workers() {
    synchronized (lock) {
      return workers;
    }
  }

  /**
   * Starts a worker, counted as idle. Returns false when the JVM cannot start another thread; the
   * running workers then serve every request.
   */
  private boolean startWorkerLocked() {
    Thread worker =
        new Thread(this::work, threadNamePrefix + workerNumbers.incrementAndGet());
    worker.setDaemon(true);
    try {
      worker.start();
    } catch (OutOfMemoryError e) {
      logger.warn(
          "cannot start another fuse worker; requests wait for the running ones: mountpoint={}"
              + " workers={} error={}",
          mountPointPath,
          workers,
          e.toString());
      return false;
    }
    workers++;
    idle++;
    return true;
  }

  private void work() {
    Pointer data = Memory.allocateDirect(runtime, bufferSize);
    Pointer buffer = Memory.allocateDirect(runtime, BUF_SIZE, true);
    Pointer channelCell = Memory.allocateDirect(runtime, runtime.addressSize(), true);
    int failure = 0;
    try {
      while (library.fuse_session_exited(session) == 0) {
        buffer.putLong(0, bufferSize);
        buffer.putInt(BUF_FLAGS_OFFSET, 0);
        buffer.putPointer(BUF_MEM_OFFSET, data);
        buffer.putInt(BUF_FD_OFFSET, -1);
        buffer.putLong(BUF_POS_OFFSET, 0);
        channelCell.putPointer(0, channel);
        int received = library.fuse_session_receive_buf(session, buffer, channelCell);

        synchronized (lock) {
          if (received == -EINTR) {
            continue;
          }
          idle--;
          if (received <= 0) {
            failure = received;
            exiting = true;
            return;
          }
          if (idle == 0 && workers < MAX_WORKERS && !exiting) {
            startWorkerLocked();
          }
        }

        // A session has one channel, which receive_buf leaves in the cell. Passing it directly
        // saves an allocation that could fail before the request gets its reply.
        try {
          library.fuse_session_process_buf(session, buffer, channel);
        } catch (RuntimeException | Error e) {
          // The callbacks turn their own failures into errnos, so this came from the binding
          // around them; one failed request does not end the session.
          logger.warn(
              "fuse request failed outside its callback: mountpoint={} error={}",
              mountPointPath,
              e.toString());
        }

        synchronized (lock) {
          if (idle >= MAX_IDLE_WORKERS) {
            return;
          }
          idle++;
        }
      }
      synchronized (lock) {
        idle--;
      }
    } catch (RuntimeException | Error e) {
      logger.warn("fuse worker failed: mountpoint={} error={}", mountPointPath, e.toString());
      failure = -1;
      synchronized (lock) {
        exiting = true;
      }
    } finally {
      finishWorker(failure);
    }
  }

  /** Ends one worker; the last one after the session ended tears the session down. */
  private void finishWorker(int failure) {
    if (failure < 0) {
      // Other workers stay blocked in read(2) until the connection goes away, so detach the mount.
      logger.warn(
          "reading /dev/fuse failed; detaching the mount: mountpoint={} errno={}",
          mountPointPath,
          -failure);
      library.fuse_session_exit(session);
      FuseMount.detachAfterFailure(mountPointPath, DETACH_TIMEOUT);
    }
    boolean last;
    synchronized (lock) {
      workers--;
      last = workers == 0;
    }
    if (!last) {
      return;
    }
    release();
    ended.complete(failure < 0 ? -1 : 0);
  }

  /**
   * Closes the channel and destroys the session. fuse_unmount unmounts only a mount whose
   * connection is still alive.
   */
  private void release() {
    Holder.VERSIONED.fuseUnmount().call(mountPoint, channel);
    library.fuse_destroy(fuse);
  }

  /** Builds a {@code struct fuse_args} whose strings stay reachable through {@code keepAlive}. */
  private static Pointer arguments(Runtime runtime, List<Pointer> keepAlive, String... values) {
    int pointerSize = runtime.addressSize();
    Pointer argv = Memory.allocateDirect(runtime, (values.length + 1) * pointerSize, true);
    keepAlive.add(argv);
    for (int i = 0; i < values.length; i++) {
      byte[] bytes = cString(values[i], pathCharset());
      Pointer value = Memory.allocateDirect(runtime, bytes.length, true);
      value.put(0, bytes, 0, bytes.length);
      keepAlive.add(value);
      argv.putPointer((long) i * pointerSize, value);
    }
    Pointer args = Memory.allocateDirect(runtime, ARGS_SIZE, true);
    keepAlive.add(args);
    args.putInt(0, values.length);
    args.putPointer(ARGS_ARGV_OFFSET, argv);
    return args;
  }

  private static byte[] cString(String value, Charset charset) {
    byte[] bytes = value.getBytes(charset);
    byte[] terminated = new byte[bytes.length + 1];
    System.arraycopy(bytes, 0, terminated, 0, bytes.length);
    return terminated;
  }

  /** Returns the charset the JVM encodes file names with, so the path reaches mount(2) unchanged. */
  private static Charset pathCharset() {
    String encoding = System.getProperty("sun.jnu.encoding");
    return encoding != null && Charset.isSupported(encoding)
        ? Charset.forName(encoding)
        : Charset.defaultCharset();
  }
}
