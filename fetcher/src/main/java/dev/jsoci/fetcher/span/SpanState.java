package dev.jsoci.fetcher.span;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The fetch state of one span of a layer in its {@link SpanManager}.
 *
 * <p>Allowed transitions, and nothing else:
 *
 * <pre>
 * NOT_REQUESTED -> FETCHING       a read, prefetch or the background fetcher claims the span
 * FETCHING      -> READY          its bytes are verified and in the memory or disk cache
 * FETCHING      -> FAILED         the fetch, the digest check or the inflation failed
 * FAILED        -> FETCHING       a later read tries again
 * READY         -> FETCHING       both caches evicted the span and a read needs it again
 * </pre>
 *
 * <p>Only the thread that moved a span to {@code FETCHING} fetches it; every other reader of the
 * span waits for that fetch.
 */
public enum SpanState {
  /** No fetch has been started since the manager opened. The disk cache may still hold it. */
  NOT_REQUESTED,
  /** One fetch is in flight; readers of the span wait for it. */
  FETCHING,
  /** Verified, and stored in the memory cache, the disk cache or both, unless evicted since. */
  READY,
  /** The last fetch failed; the span is fetched again when a read needs it. */
  FAILED;

  private static final Map<SpanState, Set<SpanState>> ALLOWED = new EnumMap<>(SpanState.class);

  static {
    ALLOWED.put(NOT_REQUESTED, EnumSet.of(FETCHING));
    ALLOWED.put(FETCHING, EnumSet.of(READY, FAILED));
    ALLOWED.put(FAILED, EnumSet.of(FETCHING));
    ALLOWED.put(READY, EnumSet.of(FETCHING));
  }

  /** Returns whether a span may move from this state to {@code next}. */
  public boolean canMoveTo(SpanState next) {
    return ALLOWED.get(this).contains(next);
  }
}
