package dev.jsoci.fetcher.span;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.jsoci.oci.Digest;
import dev.jsoci.ztoc.Span;
import org.junit.jupiter.api.Test;

class MemorySpanCacheTest {
  private static final Digest LAYER = Digest.parse("sha256:" + "ab".repeat(32));

  private static final int SPAN_BYTES = 4096;

  /** Room for three spans in the Caffeine tier. */
  private static final long CAP = 3L * (SPAN_BYTES + MemorySpanCache.ENTRY_OVERHEAD_BYTES);

  @Test
  void newSpan_afterOftenReadOnes_isKept() {
    MemorySpanCache cache = new MemorySpanCache(CAP, Runnable::run);
    for (int span = 0; span < 3; span++) {
      cache.put(key(span), new byte[SPAN_BYTES]);
    }
    // Read the first three often, so that Caffeine's frequency sketch favours them.
    for (int round = 0; round < 20; round++) {
      for (int span = 0; span < 3; span++) {
        assertThat(cache.get(key(span))).isNotNull();
      }
    }

    byte[] newest = new byte[SPAN_BYTES];
    cache.put(key(3), newest);

    for (int read = 0; read < 32; read++) {
      assertWithMessage("read %s of the newest span", read)
          .that(cache.get(key(3)) == newest)
          .isTrue();
    }
  }

  @Test
  void recentTier_keepsOnlyTheLatestSpans() {
    // A cap of one byte: Caffeine keeps nothing, so only the recent tier keeps spans.
    MemorySpanCache cache = new MemorySpanCache(1, Runnable::run);
    int spans = MemorySpanCache.RECENT_SPANS + 2;
    for (int span = 0; span < spans; span++) {
      cache.put(key(span), new byte[SPAN_BYTES]);
    }

    for (int span = 0; span < 2; span++) {
      assertThat(cache.get(key(span))).isNull();
    }
    for (int span = 2; span < spans; span++) {
      assertThat(cache.get(key(span))).isNotNull();
    }
    long spanWeight = SPAN_BYTES + MemorySpanCache.ENTRY_OVERHEAD_BYTES;
    assertThat(cache.weightedSizeBytes()).isEqualTo(MemorySpanCache.RECENT_SPANS * spanWeight);
  }

  @Test
  void zeroCap_keepsNothing() {
    MemorySpanCache cache = new MemorySpanCache(0, Runnable::run);

    cache.put(key(0), new byte[SPAN_BYTES]);

    assertThat(cache.get(key(0))).isNull();
    assertThat(cache.weightedSizeBytes()).isEqualTo(0);
  }

  private static SpanKey key(int span) {
    long start = (long) span * SPAN_BYTES;
    return new SpanKey(LAYER, new Span(span, start, start + SPAN_BYTES, start, start + SPAN_BYTES));
  }
}
