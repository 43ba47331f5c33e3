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
      cache.put(key(span), unpooled());
    }
    // Read the first three often, so that Caffeine's frequency sketch favours them.
    for (int round = 0; round < 20; round++) {
      for (int span = 0; span < 3; span++) {
        assertThat(cache.get(key(span))).isNotNull();
      }
    }

    InflatedSpan newest = unpooled();
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
      cache.put(key(span), unpooled());
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

    cache.put(key(0), unpooled());

    assertThat(cache.isEnabled()).isFalse();
    assertThat(cache.get(key(0))).isNull();
    assertThat(cache.contains(key(0))).isFalse();
    assertThat(cache.weightedSizeBytes()).isEqualTo(0);
  }

  @Test
  void evictedSpan_waitsForLastReader() {
    MemorySpanCache cache = new MemorySpanCache(1, Runnable::run);
    InflatedSpan first = pooled(cache);
    cache.put(key(0), first);
    first.release();
    InflatedSpan reader = cache.get(key(0));
    assertThat(reader).isSameInstanceAs(first);

    // Push the first span out of the recent tier while the reader still has its reference.
    for (int span = 1; span <= MemorySpanCache.RECENT_SPANS; span++) {
      InflatedSpan other = pooled(cache);
      cache.put(key(span), other);
      other.release();
    }

    assertThat(cache.contains(key(0))).isFalse();
    assertThat(first.isAlive()).isTrue();
    assertThat(cache.buffers().freeArrays()).isEqualTo(0);

    reader.release();

    assertThat(first.isAlive()).isFalse();
    assertThat(first.retain()).isFalse();
    assertThat(cache.buffers().freeArrays()).isEqualTo(1);
    assertThat(cache.get(key(0))).isNull();
  }

  @Test
  void spanLeftOnlyInCaffeine_staysAlive() {
    long oneSpan = SPAN_BYTES * 2L + MemorySpanCache.ENTRY_OVERHEAD_BYTES;
    MemorySpanCache cache = new MemorySpanCache(oneSpan, Runnable::run);
    InflatedSpan first = pooled(cache);
    cache.put(key(0), first);
    first.release();

    // Caffeine, full with the first span, turns the later ones away; the recent tier takes them.
    for (int span = 1; span <= MemorySpanCache.RECENT_SPANS; span++) {
      InflatedSpan other = pooled(cache);
      cache.put(key(span), other);
      other.release();
    }

    assertThat(first.isAlive()).isTrue();
    InflatedSpan found = cache.get(key(0));
    assertThat(found).isSameInstanceAs(first);
    found.release();
  }

  @Test
  void put_sameKeyTwice_keepsFirst() {
    MemorySpanCache cache = new MemorySpanCache(CAP, Runnable::run);
    InflatedSpan first = pooled(cache);
    InflatedSpan second = pooled(cache);

    cache.put(key(0), first);
    cache.put(key(0), second);
    second.release();

    assertThat(second.isAlive()).isFalse();
    InflatedSpan found = cache.get(key(0));
    assertThat(found).isSameInstanceAs(first);
    found.release();
    first.release();
    // Both tiers still hold the first span.
    assertThat(first.isAlive()).isTrue();
  }

  private static InflatedSpan unpooled() {
    return InflatedSpan.unpooled(new byte[SPAN_BYTES], SPAN_BYTES);
  }

  private static InflatedSpan pooled(MemorySpanCache cache) {
    return InflatedSpan.pooled(cache.buffers().take(SPAN_BYTES), SPAN_BYTES, cache.buffers());
  }

  private static SpanKey key(int span) {
    long start = (long) span * SPAN_BYTES;
    return new SpanKey(LAYER, new Span(span, start, start + SPAN_BYTES, start, start + SPAN_BYTES));
  }
}
