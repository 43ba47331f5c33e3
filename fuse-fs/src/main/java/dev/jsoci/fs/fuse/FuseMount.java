package dev.jsoci.fs.fuse;

import dev.jsoci.fs.LayerFileSystem;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One layer's filesystem mounted through FUSE at a directory; closing it unmounts.
 *
 * <p>A {@link FuseSessionLoop} serves the mount on daemon threads for as long as it lives, starting
 * more workers when all are busy, so reads that wait on the network do not hold up other requests.
 * A JVM shutdown hook detaches the mount if the process exits without closing it; otherwise the
 * kernel would keep a dead mount that returns {@code ENOTCONN} until someone unmounts it.
 *
 * <p>Warning: the mount, its workers and the filesystem stay alive until {@link #close}.
 */
public final class FuseMount implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(FuseMount.class);

  private final Path mountPoint;
  private final String layer;
  private final Duration unmountTimeout;
  private final FuseSessionLoop loop;
  private final Thread shutdownHook;
  private final AtomicBoolean closed = new AtomicBoolean();

  private FuseMount(
      Path mountPoint,
      String layer,
      Duration unmountTimeout,
      FuseSessionLoop loop,
      Thread shutdownHook) {
    this.mountPoint = mountPoint;
    this.layer = layer;
    this.unmountTimeout = unmountTimeout;
    this.loop = loop;
    this.shutdownHook = shutdownHook;
  }

  /**
   * Mounts {@code fileSystem} at {@code mountPoint} and returns once libfuse has handled the
   * kernel's first request, so the mount is ready to use. The caller must close the result.
   *
   * @param mountPoint an existing directory where nothing is mounted yet
   * @throws IOException if the mount point is not a directory or is already a mount point, or
   *     libfuse fails to mount (it prints the reason on standard error) or times out
   */
  public static FuseMount mount(LayerFileSystem fileSystem, Path mountPoint, MountOptions options)
      throws IOException {
    Path target = mountPoint.toAbsolutePath().normalize();
    if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException("mount point " + target + " is not a directory");
    }
    if (MountTable.isMounted(target)) {
      throw new IOException("mount point " + target + " is already mounted; unmount it first");
    }

    // Mount, then serve requests on the session's workers until the filesystem is unmounted.
    String what = "mounting layer " + fileSystem.layer() + " at " + target;
    LayerFuseAdapter adapter = new LayerFuseAdapter(fileSystem);
    FuseSessionLoop loop;
    try {
      loop = FuseSessionLoop.start(target, String.join(",", options.fuseOptions()), adapter);
    } catch (IOException e) {
      throw new IOException(what + " failed: " + e.getMessage(), e);
    }
    CompletableFuture<Integer> loopEnded = loop.ended();

    // Wait for the INIT request, which the kernel sends right after mount(2) succeeds.
    try {
      CompletableFuture.anyOf(adapter.initialized(), loopEnded)
          .get(options.mountTimeout().toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      detachAfterFailure(target, options.unmountTimeout());
      throw new IOException(what + " timed out after " + options.mountTimeout(), e);
    } catch (ExecutionException e) {
      detachAfterFailure(target, options.unmountTimeout());
      throw new IOException(what + " failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      detachAfterFailure(target, options.unmountTimeout());
      throw new InterruptedIOException(what + " interrupted");
    }
    if (!adapter.initialized().isDone()) {
      throw new IOException(
          what
              + " failed: the fuse session ended before the kernel's first request; libfuse"
              + " printed the reason on standard error");
    }
    if (!MountTable.isMounted(target)) {
      throw new IOException(what + " failed: the mount is missing from /proc/self/mountinfo");
    }

    // Publish.
    Thread shutdownHook =
        new Thread(
            () -> detachAtExit(target, options.unmountTimeout()),
            "jsoci-fuse-unmount-" + target.getFileName());
    try {
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // The JVM is exiting, and a mount without its hook would outlive the process.
      detachAfterFailure(target, options.unmountTimeout());
      throw new IOException(what + " failed: the process is exiting", e);
    }
    logger.debug(
        "mounted: layer={} mountpoint={} options={}",
        fileSystem.layer(),
        target,
        options.fuseOptions());
    return new FuseMount(target, fileSystem.layer(), options.unmountTimeout(), loop, shutdownHook);
  }

  /**
   * Unmounts whatever is mounted at {@code mountPoint}, such as the dead FUSE mount a killed
   * process leaves behind, detaching it lazily if it is busy.
   *
   * @return whether something was mounted there
   * @throws IOException if {@code fusermount} cannot run or fails on a mount that stays
   */
  public static boolean unmountLeftover(Path mountPoint, Duration timeout) throws IOException {
    Path target = mountPoint.toAbsolutePath().normalize();
    if (!MountTable.isMounted(target)) {
      return false;
    }
    Fusermount.Outcome outcome = Fusermount.unmount(target, timeout);
    logger.debug("unmounted a leftover mount: mountpoint={} outcome={}", target, outcome);
    return outcome != Fusermount.Outcome.NOT_MOUNTED;
  }

  /** Returns the number of threads serving the mount's requests now. */
  int workerThreads() {
    return loop.workers();
  }

  /** Returns the absolute, normalized mount point. */
  public Path mountPoint() {
    return mountPoint;
  }

  /**
   * Unmounts the layer and waits for the FUSE session to end. A busy mount (open files, a process
   * inside it) is detached lazily: it leaves the namespace at once and its session ends when the
   * last open file is closed. Idempotent.
   *
   * @throws IOException if {@code fusermount} cannot run or the mount stays in place
   */
  @Override
  public void close() throws IOException {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException e) {
      // The JVM is shutting down; the hook unmounts as well, lazily, which is harmless.
    }

    Fusermount.Outcome outcome = Fusermount.unmount(mountPoint, unmountTimeout);
    if (outcome == Fusermount.Outcome.DETACHED_LAZILY) {
      logger.warn(
          "mount point busy, detached lazily; the layer is served until its last open file is"
              + " closed: layer={} mountpoint={}",
          layer,
          mountPoint);
      return;
    }
    try {
      loop.ended().get(unmountTimeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      logger.warn(
          "fuse loop did not end after unmount: layer={} mountpoint={} error={}",
          layer,
          mountPoint,
          e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("waiting for the fuse loop of " + mountPoint + " to end");
    }
    logger.debug("unmounted: layer={} mountpoint={} outcome={}", layer, mountPoint, outcome);
  }

  /** Detaches whatever is mounted at {@code target} lazily, logging a failure. */
  static void detachAfterFailure(Path target, Duration timeout) {
    try {
      if (MountTable.isMounted(target)) {
        Fusermount.run(timeout, "-u", "-z", target.toString());
      }
    } catch (IOException e) {
      logger.warn("cannot detach a failed mount: mountpoint={} error={}", target, e.toString());
    }
  }

  private static void detachAtExit(Path target, Duration timeout) {
    try {
      Fusermount.run(timeout, "-u", "-z", target.toString());
    } catch (IOException e) {
      // Logging may already be shut down; the mount stays dead until someone unmounts it.
      System.err.println("jsoci: cannot detach " + target + " at exit: " + e);
    }
  }
}
