package dev.jsoci.snapshotter.lazy;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.time.Duration;

/**
 * Counts the zTOC reads that are queued or in flight, so that work which can wait does not share
 * the network with them: containerd prepares an image's next layer only once its zTOC is read. Safe
 * for concurrent use.
 */
final class ZtocReads {
  @GuardedBy("this")
  private int inFlight;

  /** Counts one read until the returned handle is closed; closing it twice counts it once. */
  Read begin() {
    synchronized (this) {
      inFlight++;
    }
    return new Read();
  }

  /**
   * Waits until no zTOC read is queued or in flight, for at most {@code timeout}. Returns whether
   * none is.
   *
   * @throws InterruptedException if the thread is interrupted while waiting
   */
  synchronized boolean awaitNone(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (inFlight > 0) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      wait(Math.max(1, left / 1_000_000));
    }
    return true;
  }

  private synchronized void end() {
    inFlight--;
    if (inFlight == 0) {
      notifyAll();
    }
  }

  /** One zTOC read in flight. */
  final class Read implements AutoCloseable {
    private boolean closed;

    private Read() {}

    @Override
    public void close() {
      synchronized (ZtocReads.this) {
        if (closed) {
          return;
        }
        closed = true;
      }
      end();
    }
  }
}
