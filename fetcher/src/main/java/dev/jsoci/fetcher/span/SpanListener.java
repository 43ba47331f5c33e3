package dev.jsoci.fetcher.span;

/**
 * Receives the span work of a {@link SpanEngine}, for metrics.
 *
 * <p>Methods are called on the threads that read, fetch and cache spans, often while a read waits,
 * so they must be fast, thread-safe and must not throw.
 */
public interface SpanListener {
  /** A listener that ignores every event. */
  SpanListener NONE = new SpanListener() {};

  /** The two span caches of an engine. */
  enum Cache {
    MEMORY,
    DISK
  }

  /**
   * Called after one ranged read of compressed bytes returned, for a run of adjacent spans or for a
   * refetch after a digest mismatch.
   *
   * @param bytes the compressed bytes received
   * @param durationNanos the time the read took, from the request to the last byte
   */
  default void rangeFetched(FetchPurpose purpose, long bytes, long durationNanos) {}

  /** Called when a ranged read failed, after the source's own retries. */
  default void rangeFailed(FetchPurpose purpose) {}

  /**
   * Called when a read found spans missing from the memory cache and got them, from the disk
   * cache, from its own fetch or from a fetch already in flight for another purpose.
   *
   * @param durationNanos the time the read waited for those spans
   */
  default void readWaited(long durationNanos) {}

  /** Called when a fetched span passed its digest check and was published. */
  default void spanFetched(FetchPurpose purpose) {}

  /** Called when a span's fetched bytes did not match its digest. */
  default void digestMismatch() {}

  /** Called for each look-up of a span in a cache, with whether the cache contained it. */
  default void cacheLookup(Cache cache, boolean hit) {}

  /** Called when a cache dropped {@code count} spans to stay within its size cap. */
  default void cacheEvicted(Cache cache, int count) {}
}
