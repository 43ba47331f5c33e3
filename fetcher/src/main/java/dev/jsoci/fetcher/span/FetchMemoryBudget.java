package dev.jsoci.fetcher.span;

import java.io.InterruptedIOException;
import java.util.concurrent.Semaphore;

/**
 * Bounds the heap that span work in progress uses at once: the compressed bytes of a fetch or of
 * a disk cache file, their copies, and the inflated span. Each piece of work acquires its estimated
 * bytes before it allocates them and releases them when it ends. Work estimated at more than the
 * whole budget takes all of it, so it runs alone. Waiters are served first come, first served.
 *
 * <p>Thread-safe. The budget counts KiB, rounded up, so that a few GiB fit the semaphore's int.
 */
final class FetchMemoryBudget {
  private final Semaphore kibibytes;
  private final int totalKibibytes;

  /** Creates a budget of {@code bytes}, at least 1 KiB. */
  FetchMemoryBudget(long bytes) {
    if (bytes < 1024) {
      throw new IllegalArgumentException(
          "fetch memory budget must be at least 1024 bytes, found " + bytes);
    }
    this.totalKibibytes = (int) Math.min(Integer.MAX_VALUE, bytes >> 10);
    this.kibibytes = new Semaphore(totalKibibytes, true);
  }

  /**
   * Blocks until {@code bytes} of the budget, or all of it for a larger amount, are free and
   * reserves them. Close the returned reservation to release them.
   *
   * @throws InterruptedIOException if the thread is interrupted while it waits; the thread stays
   *     interrupted
   */
  Reservation acquire(long bytes) throws InterruptedIOException {
    int amount = (int) Math.max(1, Math.min(totalKibibytes, (bytes + 1023) >> 10));
    try {
      kibibytes.acquire(amount);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      InterruptedIOException interrupted =
          new InterruptedIOException("interrupted while waiting for span fetch memory");
      interrupted.initCause(e);
      throw interrupted;
    }
    return new Reservation(amount);
  }

  /** Returns the free part of the budget in bytes. */
  long availableBytes() {
    return (long) kibibytes.availablePermits() << 10;
  }

  /** Returns whether a thread waits for the budget now. */
  boolean hasWaiters() {
    return kibibytes.hasQueuedThreads();
  }

  /** Returns the whole budget in bytes, as counted: whole KiB. */
  long totalBytes() {
    return (long) totalKibibytes << 10;
  }

  /**
   * The bytes of the budget that one piece of work reserved. Closing releases them once; the thread
   * that acquired the reservation closes it.
   */
  final class Reservation implements AutoCloseable {
    private int amount;

    private Reservation(int amount) {
      this.amount = amount;
    }

    @Override
    public void close() {
      if (amount > 0) {
        kibibytes.release(amount);
        amount = 0;
      }
    }
  }
}
