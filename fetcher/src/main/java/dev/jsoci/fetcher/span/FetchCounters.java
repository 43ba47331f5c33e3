package dev.jsoci.fetcher.span;

import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Thread-safe counters behind {@link FetchStatistics}. A layer's counters also add every count to
 * the engine's counters, their parent.
 */
final class FetchCounters {
  private final @Nullable FetchCounters parent;
  private final LongAdder requests = new LongAdder();
  private final LongAdder bytesFetched = new LongAdder();
  private final LongAdder spansFetched = new LongAdder();
  private final LongAdder memoryHits = new LongAdder();
  private final LongAdder diskHits = new LongAdder();
  private final LongAdder digestMismatches = new LongAdder();
  private final LongAdder backgroundSpans = new LongAdder();

  FetchCounters(@Nullable FetchCounters parent) {
    this.parent = parent;
  }

  void requestCompleted(long bytes) {
    requests.increment();
    bytesFetched.add(bytes);
    if (parent != null) {
      parent.requestCompleted(bytes);
    }
  }

  void spanFetched(boolean background) {
    spansFetched.increment();
    if (background) {
      backgroundSpans.increment();
    }
    if (parent != null) {
      parent.spanFetched(background);
    }
  }

  void memoryHit() {
    memoryHits.increment();
    if (parent != null) {
      parent.memoryHit();
    }
  }

  void diskHit() {
    diskHits.increment();
    if (parent != null) {
      parent.diskHit();
    }
  }

  void digestMismatch() {
    digestMismatches.increment();
    if (parent != null) {
      parent.digestMismatch();
    }
  }

  FetchStatistics snapshot() {
    return new FetchStatistics(
        requests.sum(),
        bytesFetched.sum(),
        spansFetched.sum(),
        memoryHits.sum(),
        diskHits.sum(),
        digestMismatches.sum(),
        backgroundSpans.sum());
  }
}
