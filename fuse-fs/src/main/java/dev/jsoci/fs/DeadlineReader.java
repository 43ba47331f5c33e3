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
import org.jspecify.annotations.Nullable;

/**
 * Reads ranges of a layer's tar stream through a {@link ContentReader}, each on an executor thread
 * with a deadline, so the calling thread gets {@link Errno#EIO} instead of hanging when the reader
 * does not return.
 *
 * <p>Thread-safe. A read that passes its deadline is interrupted. A reader that ignores interrupts
 * keeps its executor thread until it returns.
 */
final class DeadlineReader {
  private final ContentReader content;
  private final String layer;
  private final Duration timeout;
  private final ExecutorService executor;

  /**
   * @param executor runs the reads, or null for a cached pool of daemon threads whose idle threads
   *     end after a minute
   */
  DeadlineReader(
      ContentReader content, String layer, Duration timeout, @Nullable ExecutorService executor) {
    this.content = content;
    this.layer = layer;
    this.timeout = timeout;
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
   *     deadline passes or the calling thread is interrupted
   */
  void readFully(long uncompressedOffset, ByteBuffer bytes) throws ErrnoException {
    if (!readAtHand(uncompressedOffset, bytes)) {
      readWithDeadline(uncompressedOffset, bytes);
    }
  }

  /**
   * Fills {@code bytes} as {@link #readFully} does, always on an executor thread.
   *
   * <p>Warning: as with {@link #readFully}, the executor thread may go on writing into {@code
   * bytes} after a timeout.
   */
  void readWithDeadline(long uncompressedOffset, ByteBuffer bytes) throws ErrnoException {
    String range =
        "layer "
            + layer
            + " at offset "
            + uncompressedOffset
            + " ("
            + bytes.remaining()
            + " bytes)";
    // TODO: after a failed readahead the kernel reads the same page again, and that read waits a
    // second deadline, so read(2) may take up to twice the timeout to fail. A shorter deadline for
    // reads right after a timeout would also cut short a process's own retry once the registry is
    // back, because the span fetch may still be waiting out its retry delay.
    Future<?> read;
    try {
      read = executor.submit(() -> readOnThisThread(uncompressedOffset, bytes));
    } catch (RejectedExecutionException e) {
      throw new ErrnoException(Errno.EIO, "read of " + range + " rejected by the executor", e);
    }
    try {
      read.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      read.cancel(true);
      throw new ErrnoException(Errno.EIO, "read of " + range + " timed out after " + timeout, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      String kind = cause instanceof IOException ? "failed" : "failed unexpectedly";
      throw new ErrnoException(Errno.EIO, "read of " + range + " " + kind + ": " + cause, cause);
    } catch (InterruptedException e) {
      read.cancel(true);
      Thread.currentThread().interrupt();
      throw new ErrnoException(Errno.EIO, "read of " + range + " interrupted", e);
    }
  }

  /**
   * Fills {@code bytes} on the calling thread when the reader has every byte at hand, and returns
   * whether it did. A range it has only in part stays unread and goes to the executor whole.
   *
   * @throws ErrnoException {@link Errno#EIO} if the reader fails
   */
  boolean readAtHand(long uncompressedOffset, ByteBuffer bytes) throws ErrnoException {
    int start = bytes.position();
    try {
      int count = content.readIfAtHand(uncompressedOffset, bytes);
      if (count == ContentReader.NOT_AT_HAND) {
        return false;
      }
      if (count != bytes.limit() - start) {
        // The stream ends inside the range; the executor's read reports it.
        bytes.position(start);
        return false;
      }
      return true;
    } catch (IOException e) {
      throw new ErrnoException(
          Errno.EIO,
          "read of layer " + layer + " at offset " + uncompressedOffset + " failed: " + e,
          e);
    }
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
