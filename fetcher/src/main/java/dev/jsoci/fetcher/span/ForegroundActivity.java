package dev.jsoci.fetcher.span;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts the foreground reads and prefetches of an engine that wait for spans, so that the
 * background fetcher starts nothing while any wait. Thread-safe.
 */
final class ForegroundActivity {
  private final AtomicInteger waiting = new AtomicInteger();
  private final List<Runnable> idleListeners = new CopyOnWriteArrayList<>();

  /** Registers a task to run, on the thread that ends the last wait, whenever none is left. */
  void onIdle(Runnable listener) {
    idleListeners.add(listener);
  }

  void begin() {
    waiting.incrementAndGet();
  }

  void end() {
    if (waiting.decrementAndGet() == 0) {
      for (Runnable listener : idleListeners) {
        listener.run();
      }
    }
  }

  boolean isBusy() {
    return waiting.get() > 0;
  }
}
