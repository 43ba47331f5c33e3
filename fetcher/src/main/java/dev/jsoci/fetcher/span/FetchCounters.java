package dev.jsoci.fetcher.span;

import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * Thread-safe counters behind {@link FetchStatistics}. A layer's counters also add every count to
 * the engine's counters, their parent, and the engine's counters pass each event on to the engine's
 * {@link SpanListener}, so every event reaches the listener once.
 */
final class FetchCounters {
  private final @Nullable FetchCounters parent;
  private final SpanListener listener;
  private final LongAdder requests = new LongAdder();
  private final LongAdder bytesFetched = new LongAdder();
  private final LongAdder spansFetched = new LongAdder();
  private final LongAdder memoryHits = new LongAdder();
  private final LongAdder diskHits = new LongAdder();
  private final LongAdder digestMismatches = new LongAdder();
  private final LongAdder backgroundSpans = new LongAdder();

  /** Creates the counters of a layer, which add every count to {@code parent} too. */
  FetchCounters(FetchCounters parent) {
    this.parent = parent;
    this.listener = SpanListener.NONE;
  }

  /** Creates the engine's counters, which report every event to {@code listener}. */
  FetchCounters(SpanListener listener) {
    this.parent = null;
    this.listener = listener;
  }

  void requestCompleted(FetchPurpose purpose, long bytes, long durationNanos) {
    requests.increment();
    bytesFetched.add(bytes);
    if (parent != null) {
      parent.requestCompleted(purpose, bytes, durationNanos);
    } else {
      listener.rangeFetched(purpose, bytes, durationNanos);
    }
  }

  void requestFailed(FetchPurpose purpose) {
    if (parent != null) {
      parent.requestFailed(purpose);
    } else {
      listener.rangeFailed(purpose);
    }
  }

  void spanFetched(FetchPurpose purpose) {
    spansFetched.increment();
    if (purpose == FetchPurpose.BACKGROUND) {
      backgroundSpans.increment();
    }
    if (parent != null) {
      parent.spanFetched(purpose);
    } else {
      listener.spanFetched(purpose);
    }
  }

  void readWaited(long durationNanos) {
    if (parent != null) {
      parent.readWaited(durationNanos);
    } else {
      listener.readWaited(durationNanos);
    }
  }

  void memoryHit() {
    memoryHits.increment();
    if (parent != null) {
      parent.memoryHit();
    } else {
      listener.cacheLookup(SpanListener.Cache.MEMORY, true);
    }
  }

  void memoryMiss() {
    if (parent != null) {
      parent.memoryMiss();
    } else {
      listener.cacheLookup(SpanListener.Cache.MEMORY, false);
    }
  }

  void diskHit() {
    diskHits.increment();
    if (parent != null) {
      parent.diskHit();
    } else {
      listener.cacheLookup(SpanListener.Cache.DISK, true);
    }
  }

  void diskMiss() {
    if (parent != null) {
      parent.diskMiss();
    } else {
      listener.cacheLookup(SpanListener.Cache.DISK, false);
    }
  }

  void digestMismatch() {
    digestMismatches.increment();
    if (parent != null) {
      parent.digestMismatch();
    } else {
      listener.digestMismatch();
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
