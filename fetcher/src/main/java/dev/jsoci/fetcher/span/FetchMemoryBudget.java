package dev.jsoci.fetcher.span;

import java.io.InterruptedIOException;
import java.util.concurrent.Semaphore;
import org.jspecify.annotations.Nullable;

/**
 * Bounds the heap that span work in progress uses at once: the compressed bytes of a fetch or of a
 * disk cache file, their copies, and the inflated span. Each piece of work acquires its estimated
 * bytes before it allocates them and releases them when it ends. Work estimated at more than the
 * whole budget takes all of it, so it runs alone. Waiters are served first come, first served.
 *
 * <p>The work of a read, which a process waits for, never queues behind readahead, prefetch or
 * background work: when the budget is spent, a read takes its bytes from a reserve of half the
 * budget's size. Span work therefore peaks at one and a half budgets.
 *
 * <p>Thread-safe. The budget counts KiB, rounded up, so that a few GiB fit the semaphore's int.
 */
final class FetchMemoryBudget {
  private final Semaphore kibibytes;
  private final int totalKibibytes;
  private final Semaphore readReserve;
  private final int reserveKibibytes;

  /** Creates a budget of {@code bytes}, at least 1 KiB, and a read reserve of half as much. */
  FetchMemoryBudget(long bytes) {
    if (bytes < 1024) {
      throw new IllegalArgumentException(
          "fetch memory budget must be at least 1024 bytes, found " + bytes);
    }
    this.totalKibibytes = (int) Math.min(Integer.MAX_VALUE, bytes >> 10);
    this.kibibytes = new Semaphore(totalKibibytes, true);
    this.reserveKibibytes = totalKibibytes / 2;
    this.readReserve = new Semaphore(reserveKibibytes);
  }

  /**
   * Blocks until {@code bytes} of the budget, or all of it for a larger amount, are free and
   * reserves them. Close the returned reservation to release them.
   *
   * @throws InterruptedIOException if the thread is interrupted while it waits; the thread stays
   *     interrupted
   */
  Reservation acquire(long bytes) throws InterruptedIOException {
    int amount = kibibytesOf(bytes);
    try {
      kibibytes.acquire(amount);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      InterruptedIOException interrupted =
          new InterruptedIOException("interrupted while waiting for span fetch memory");
      interrupted.initCause(e);
      throw interrupted;
    }
    return new Reservation(kibibytes, amount);
  }

  /**
   * Reserves {@code bytes} for the work of a read: at once from the budget when it has room, else
   * at once from the read reserve when that has room, else by waiting as {@link #acquire} does.
   *
   * @throws InterruptedIOException if the thread is interrupted while it waits; the thread stays
   *     interrupted
   */
  Reservation acquireForRead(long bytes) throws InterruptedIOException {
    int amount = kibibytesOf(bytes);
    // Unlike acquire, tryAcquire does not queue behind the waiting work of other purposes.
    if (kibibytes.tryAcquire(amount)) {
      return new Reservation(kibibytes, amount);
    }
    if (amount <= reserveKibibytes && readReserve.tryAcquire(amount)) {
      return new Reservation(readReserve, amount);
    }
    return acquire(bytes);
  }

  private int kibibytesOf(long bytes) {
    return (int) Math.max(1, Math.min(totalKibibytes, (bytes + 1023) >> 10));
  }

  /** Returns the free part of the budget in bytes, without the read reserve. */
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

  /** Returns the free part of the read reserve in bytes. */
  long availableReserveBytes() {
    return (long) readReserve.availablePermits() << 10;
  }

  /**
   * The bytes of the budget or of the read reserve that one piece of work reserved. Closing
   * releases them once. The thread that acquired the reservation closes it.
   */
  static final class Reservation implements AutoCloseable {
    /** A reservation of nothing, for work whose memory another reservation covers. */
    static final Reservation NONE = new Reservation(null, 0);

    private final @Nullable Semaphore source;
    private int amount;

    private Reservation(@Nullable Semaphore source, int amount) {
      this.source = source;
      this.amount = amount;
    }

    @Override
    public void close() {
      if (source != null && amount > 0) {
        source.release(amount);
        amount = 0;
      }
    }
  }
}
