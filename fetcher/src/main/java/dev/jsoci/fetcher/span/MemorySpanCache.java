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
 * <p>Cached arrays are shared with readers, which must never modify them. Thread-safe.
 */
final class MemorySpanCache {
  /** Bytes charged per entry beyond its array, for the key, the array header and the node. */
  static final int ENTRY_OVERHEAD_BYTES = 128;

  /**
   * Spans kept in least-recently-used order: the span a reader is in and the two it reads ahead,
   * and one more for a second reader.
   */
  static final int RECENT_SPANS = 4;

  private final Cache<SpanKey, byte[]> cache;

  /** Whether {@link #recent} keeps spans: not when {@code maxBytes} is 0. */
  private final boolean recentEnabled;

  /** Recently used spans, least recent first; guarded by itself. */
  private final LinkedHashMap<SpanKey, byte[]> recent = new LinkedHashMap<>(16, 0.75f, true);

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
        Caffeine.newBuilder()
            .maximumWeight(maxBytes)
            .weigher((SpanKey key, byte[] inflated) -> weightOf(inflated))
            .executor(maintenance)
            .evictionListener(
                (SpanKey key, byte[] inflated, RemovalCause cause) -> {
                  if (cause.wasEvicted()) {
                    listener.cacheEvicted(SpanListener.Cache.MEMORY, 1);
                  }
                })
            .build();
    this.recentEnabled = maxBytes > 0;
  }

  private static int weightOf(byte[] inflated) {
    return (int) Math.min(Integer.MAX_VALUE, (long) inflated.length + ENTRY_OVERHEAD_BYTES);
  }

  /** Returns the inflated span, or null when it is not cached. */
  byte @Nullable [] get(SpanKey key) {
    synchronized (recent) {
      byte[] inflated = recent.get(key);
      if (inflated != null) {
        return inflated;
      }
    }
    byte[] inflated = cache.getIfPresent(key);
    if (inflated != null) {
      putRecent(key, inflated);
    }
    return inflated;
  }

  void put(SpanKey key, byte[] inflated) {
    cache.put(key, inflated);
    putRecent(key, inflated);
  }

  private void putRecent(SpanKey key, byte[] inflated) {
    if (!recentEnabled) {
      return;
    }
    synchronized (recent) {
      recent.put(key, inflated);
      if (recent.size() > RECENT_SPANS) {
        var eldest = recent.keySet().iterator();
        eldest.next();
        eldest.remove();
      }
    }
  }

  /** Returns the weight of the entries held now in both tiers, in bytes, each span counted once. */
  long weightedSizeBytes() {
    cache.cleanUp();
    long bytes = cache.policy().eviction().orElseThrow().weightedSize().orElse(0);
    Map<SpanKey, byte[]> main = cache.asMap();
    synchronized (recent) {
      for (Map.Entry<SpanKey, byte[]> entry : recent.entrySet()) {
        if (!main.containsKey(entry.getKey())) {
          bytes += weightOf(entry.getValue());
        }
      }
    }
    return bytes;
  }
}
