package dev.jsoci.fetcher.span;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.ZtocFormatException;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class SpanBufferPoolTest {
  @Test
  void take_afterGive_reusesTheArray() {
    SpanBufferPool pool = new SpanBufferPool(2);
    byte[] first = pool.take(100_000);

    pool.give(first);

    assertThat(pool.take(99_000)).isSameInstanceAs(first);
    assertThat(pool.reusedArrays()).isEqualTo(1);
    assertThat(pool.freeArrays()).isEqualTo(0);
  }

  @Test
  void take_leavesArraysFarLongerThanNeeded() {
    SpanBufferPool pool = new SpanBufferPool(2);
    byte[] large = pool.take(1 << 20);
    pool.give(large);

    byte[] small = pool.take(64 * 1024);

    assertThat(small).isNotSameInstanceAs(large);
    assertThat(pool.freeArrays()).isEqualTo(1);
  }

  @Test
  void give_pastTheBound_keepsTheNewest() {
    SpanBufferPool pool = new SpanBufferPool(2);
    byte[] a = new byte[4096];
    byte[] b = new byte[4096];
    byte[] c = new byte[4096];

    pool.give(a);
    pool.give(b);
    pool.give(c);

    assertThat(pool.freeArrays()).isEqualTo(2);
    assertThat(pool.take(4096)).isSameInstanceAs(c);
    assertThat(pool.take(4096)).isSameInstanceAs(b);
  }

  @Test
  void zeroArrays_keepsNothing() {
    SpanBufferPool pool = new SpanBufferPool(0);

    pool.give(new byte[4096]);

    assertThat(pool.freeArrays()).isEqualTo(0);
  }

  @Test
  void inflate_failure_givesTheArrayBack() {
    SpanBufferPool pool = new SpanBufferPool(2);
    Span span = new Span(0, 0, 10, 0, 8192);

    assertThrows(ZtocFormatException.class, () -> pool.inflate(failing(), span, new byte[10]));

    assertThat(pool.freeArrays()).isEqualTo(1);
  }

  @Test
  void inflate_emptySpan_returnsTheSharedEmptySpan() throws IOException {
    SpanBufferPool pool = new SpanBufferPool(2);

    InflatedSpan empty = pool.inflate(failing(), new Span(0, 0, 10, 100, 100), new byte[10]);

    assertThat(empty).isSameInstanceAs(InflatedSpan.EMPTY);
    empty.release();
    assertThat(empty.retain()).isTrue();
  }

  @Test
  void lastRelease_returnsArray_andLaterRetainFails() {
    SpanBufferPool pool = new SpanBufferPool(2);
    byte[] bytes = pool.take(4096);
    InflatedSpan span = InflatedSpan.pooled(bytes, 4096, pool);
    assertThat(span.retain()).isTrue();

    span.release();
    assertThat(pool.freeArrays()).isEqualTo(0);
    span.release();

    assertThat(pool.freeArrays()).isEqualTo(1);
    assertThat(span.retain()).isFalse();
    assertThrows(IllegalStateException.class, span::release);
  }

  /** Returns a zinfo whose every decompression fails as it would on corrupt data. */
  private static Zinfo failing() {
    return (Zinfo)
        java.lang.reflect.Proxy.newProxyInstance(
            Zinfo.class.getClassLoader(),
            new Class<?>[] {Zinfo.class},
            (proxy, method, args) -> {
              throw new ZtocFormatException("corrupt deflate data");
            });
  }
}
