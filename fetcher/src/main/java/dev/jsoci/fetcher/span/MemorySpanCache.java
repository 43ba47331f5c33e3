package dev.jsoci.fetcher.span;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * Inflated spans in memory, shared by every layer of an engine, weighed in bytes and capped. The
 * entries least likely to be read again are evicted first (Caffeine's size-based policy).
 *
 * <p>In front of Caffeine, the {@link #RECENT_SPANS} most recently used spans are also kept, in
 * least-recently-used order. A span is read in many small pieces right after it is loaded, because
 * FUSE reads at most 128 KiB at a time and spans are 4 MiB by default. Caffeine 3 starts with an
 * admission window of 1% of the cap, far smaller than a span. So a new span competes at once with
 * spans read often before, is usually rejected, and without this tier would be inflated again for
 * each piece. Both tiers share the same arrays, so the heap keeps at most {@code maxBytes} plus
 * {@link #RECENT_SPANS} spans.
 *
 * <p>Each tier holds one reference to each span it keeps and releases it on eviction, so a span's
 * array goes back to its pool once both tiers and every reader are done with it. Thread-safe.
 */
final class MemorySpanCache {
  /** Bytes charged per entry beyond its array, for the key, the array header and the node. */
  static final int ENTRY_OVERHEAD_BYTES = 128;

  /**
   * Spans kept in least-recently-used order: the span a reader is in and the two it reads ahead,
   * and one more for a second reader.
   */
  static final int RECENT_SPANS = 4;

  /**
   * The number of arrays kept for reuse, the size of the recent tier: in a steady state, each new
   * span takes the array of a span that left both tiers.
   */
  static final int FREE_ARRAYS = RECENT_SPANS;

  private final SpanBufferPool buffers = new SpanBufferPool(FREE_ARRAYS);

  /** The Caffeine tier, or null when {@code maxBytes} is 0. */
  private final @Nullable Cache<SpanKey, InflatedSpan> cache;

  /** Recently used spans, least recent first; guarded by itself. Empty when {@code cache} is null. */
  private final LinkedHashMap<SpanKey, InflatedSpan> recent = new LinkedHashMap<>(16, 0.75f, true);

  /**
   * @param maxBytes the cap on the inflated bytes held by Caffeine, overhead included; 0 keeps
   *     nothing in either tier
   * @param maintenance runs Caffeine's eviction work; a direct executor makes eviction happen
   *     inside {@link #put}, which tests use to observe it
   */
  MemorySpanCache(long maxBytes, Executor maintenance) {
    this(maxBytes, maintenance, SpanListener.NONE);
  }

  /**
   * @param listener receives one {@link SpanListener#cacheEvicted} call per span evicted to stay
   *     within {@code maxBytes}
   */
  MemorySpanCache(long maxBytes, Executor maintenance, SpanListener listener) {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must not be negative, found " + maxBytes);
    }
    this.cache =
        maxBytes == 0
            ? null
            : Caffeine.newBuilder()
                .maximumWeight(maxBytes)
                .weigher((SpanKey key, InflatedSpan inflated) -> weightOf(inflated))
                .executor(maintenance)
                // Called at once for every eviction; the cache never replaces or removes entries.
                .evictionListener(
                    (SpanKey key, InflatedSpan inflated, RemovalCause cause) -> {
                      if (inflated != null) {
                        inflated.release();
                      }
                      if (cause.wasEvicted()) {
                        listener.cacheEvicted(SpanListener.Cache.MEMORY, 1);
                      }
                    })
                .build();
  }

  /** Returns whether the cache keeps spans: false when {@code maxBytes} is 0. */
  boolean isEnabled() {
    return cache != null;
  }

  /** Returns the pool that spans are inflated into, whose arrays come back after eviction. */
  SpanBufferPool buffers() {
    return buffers;
  }

  private static int weightOf(InflatedSpan inflated) {
    return (int) Math.min(Integer.MAX_VALUE, (long) inflated.capacity() + ENTRY_OVERHEAD_BYTES);
  }

  /** Returns the inflated span with a reference for the caller, or null when it is not cached. */
  @Nullable InflatedSpan get(SpanKey key) {
    if (cache == null) {
      return null;
    }
    synchronized (recent) {
      InflatedSpan inflated = recent.get(key);
      // The tier's own reference keeps the span alive while the lock is held.
      if (inflated != null && inflated.retain()) {
        return inflated;
      }
    }
    InflatedSpan inflated = cache.getIfPresent(key);
    if (inflated == null || !inflated.retain()) {
      // Absent, or evicted and dead since the lookup.
      return null;
    }
    putRecent(key, inflated);
    return inflated;
  }

  /** Returns whether the span is cached now, without a reference. */
  boolean contains(SpanKey key) {
    if (cache == null) {
      return false;
    }
    synchronized (recent) {
      if (recent.containsKey(key)) {
        return true;
      }
    }
    return cache.asMap().containsKey(key);
  }

  /**
   * Caches the span; each tier that takes it retains its own reference, and the caller keeps its
   * own. A span already cached under the key stays, since both hold the same bytes.
   */
  void put(SpanKey key, InflatedSpan inflated) {
    if (cache == null) {
      return;
    }
    // Retained before it is visible, so an eviction cannot release the last reference first.
    if (inflated.retain()) {
      if (cache.asMap().putIfAbsent(key, inflated) != null) {
        inflated.release();
      }
    }
    putRecent(key, inflated);
  }

  private void putRecent(SpanKey key, InflatedSpan inflated) {
    InflatedSpan evicted = null;
    synchronized (recent) {
      InflatedSpan present = recent.get(key);
      if (present != null || !inflated.retain()) {
        return;
      }
      recent.put(key, inflated);
      if (recent.size() > RECENT_SPANS) {
        var eldest = recent.values().iterator();
        evicted = eldest.next();
        eldest.remove();
      }
    }
    if (evicted != null) {
      evicted.release();
    }
  }

  /** Returns the weight of the entries held now in both tiers, in bytes, each span counted once. */
  long weightedSizeBytes() {
    if (cache == null) {
      return 0;
    }
    cache.cleanUp();
    long bytes = cache.policy().eviction().orElseThrow().weightedSize().orElse(0);
    Map<SpanKey, InflatedSpan> main = cache.asMap();
    synchronized (recent) {
      for (Map.Entry<SpanKey, InflatedSpan> entry : recent.entrySet()) {
        if (!main.containsKey(entry.getKey())) {
          bytes += weightOf(entry.getValue());
        }
      }
    }
    return bytes;
  }
}
