package dev.jsoci.fs;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;

/**
 * Reads ranges of a layer's tar stream through a {@link ContentReader}, each on an executor thread
 * with a deadline, so the calling thread gets {@link Errno#EIO} instead of hanging when the reader
 * does not return.
 *
 * <p>Thread-safe. A read that passes its deadline is interrupted. A reader that ignores interrupts
 * keeps its executor thread until it returns. After a read fails, the next read of an overlapping
 * range, if it comes within the failure hold, fails at once with the same cause: the kernel answers
 * a failed readahead by reading the same page again, and that read should not wait a second
 * deadline. The reads after it try again.
 */
final class DeadlineReader {
  private final ContentReader content;
  private final String layer;
  private final Duration timeout;
  private final Duration failureHold;
  private final ExecutorService executor;
  private final AtomicReference<@Nullable Failure> lastFailure = new AtomicReference<>();

  /** A failed read of the tar stream range [start, end), at {@code nanoTime}. */
  private record Failure(long start, long end, long nanoTime, String cause) {
    boolean overlaps(long otherStart, long otherEnd) {
      return start < otherEnd && otherStart < end;
    }
  }

  /**
   * @param executor runs the reads, or null for a cached pool of daemon threads whose idle threads
   *     end after a minute
   */
  DeadlineReader(
      ContentReader content,
      String layer,
      Duration timeout,
      Duration failureHold,
      @Nullable ExecutorService executor) {
    this.content = content;
    this.layer = layer;
    this.timeout = timeout;
    this.failureHold = failureHold;
    this.executor = executor != null ? executor : Executors.newCachedThreadPool(daemonThreads());
  }

  private static ThreadFactory daemonThreads() {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, "jsoci-fs-read-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  /**
   * Fills {@code bytes} from its position to its limit with the tar stream from {@code
   * uncompressedOffset}. Blocks until the bytes are read or the deadline passes.
   *
   * <p>Warning: the read runs on another thread, which may go on writing into {@code bytes} after a
   * timeout. Pass a buffer that no other code reads or writes.
   *
   * @throws ErrnoException {@link Errno#EIO} if the reader fails, the stream ends early, the
   *     deadline passes or the calling thread is interrupted, or if this is the first read of a
   *     range that overlaps a failure less than the failure hold old
   */
  void readFully(long uncompressedOffset, ByteBuffer bytes) throws ErrnoException {
    long end = uncompressedOffset + bytes.remaining();
    String range =
        "layer "
            + layer
            + " at offset "
            + uncompressedOffset
            + " ("
            + bytes.remaining()
            + " bytes)";
    Failure failure = lastFailure.get();
    if (failure != null
        && failure.overlaps(uncompressedOffset, end)
        && System.nanoTime() - failure.nanoTime() < failureHold.toNanos()
        && lastFailure.compareAndSet(failure, null)) {
      throw new ErrnoException(
          Errno.EIO,
          "read of " + range + " not tried: a read of an overlapping range just " + failure.cause());
    }
    Future<?> read;
    try {
      read = executor.submit(() -> readOnThisThread(uncompressedOffset, bytes));
    } catch (RejectedExecutionException e) {
      throw new ErrnoException(Errno.EIO, "read of " + range + " rejected by the executor", e);
    }
    try {
      read.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      lastFailure.updateAndGet(f -> f != null && f.overlaps(uncompressedOffset, end) ? null : f);
    } catch (TimeoutException e) {
      read.cancel(true);
      throw failed(uncompressedOffset, end, "read of " + range, "timed out after " + timeout, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      String kind = cause instanceof IOException ? "failed" : "failed unexpectedly";
      throw failed(uncompressedOffset, end, "read of " + range, kind + ": " + cause, cause);
    } catch (InterruptedException e) {
      read.cancel(true);
      Thread.currentThread().interrupt();
      throw new ErrnoException(Errno.EIO, "read of " + range + " interrupted", e);
    }
  }

  /** Records a failure for the failure hold and returns the EIO that reports it. */
  private ErrnoException failed(
      long start, long end, String what, String cause, @Nullable Throwable throwable) {
    lastFailure.set(new Failure(start, end, System.nanoTime(), cause));
    return new ErrnoException(Errno.EIO, what + " " + cause, throwable);
  }

  private Void readOnThisThread(long uncompressedOffset, ByteBuffer bytes) throws IOException {
    long position = uncompressedOffset;
    while (bytes.hasRemaining()) {
      int count = content.read(position, bytes);
      if (count < 0) {
        throw new EOFException(
            "layer content ends at offset " + position + ", " + bytes.remaining() + " bytes early");
      }
      if (count == 0) {
        throw new IOException("content reader returned no bytes at offset " + position);
      }
      position += count;
    }
    return null;
  }
}
