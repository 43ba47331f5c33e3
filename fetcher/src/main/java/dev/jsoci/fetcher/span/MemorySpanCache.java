package dev.jsoci.fetcher.span;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * Inflated spans in memory, shared by every layer of an engine, weighed in bytes and capped. The
 * entries least likely to be read again are evicted first (Caffeine's size-based policy).
 *
 * <p>Cached arrays are shared with readers, which must never modify them. Thread-safe.
 */
final class MemorySpanCache {
  /** Bytes charged per entry beyond its array, for the key, the array header and the node. */
  static final int ENTRY_OVERHEAD_BYTES = 128;

  private final Cache<SpanKey, byte[]> cache;

  /**
   * @param maxBytes the cap on the inflated bytes held, overhead included; 0 keeps nothing
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
  }

  private static int weightOf(byte[] inflated) {
    return (int) Math.min(Integer.MAX_VALUE, (long) inflated.length + ENTRY_OVERHEAD_BYTES);
  }

  /** Returns the inflated span, or null when it is not cached. */
  byte @Nullable [] get(SpanKey key) {
    return cache.getIfPresent(key);
  }

  void put(SpanKey key, byte[] inflated) {
    cache.put(key, inflated);
  }

  /** Returns the weight of the entries held now, in bytes. */
  long weightedSizeBytes() {
    cache.cleanUp();
    return cache.policy().eviction().orElseThrow().weightedSize().orElse(0);
  }
}
