package dev.jsoci.fetcher.span;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The tar bytes of one span in an array that may come from, and go back to, a {@link
 * SpanBufferPool}, with a count of the holders that use it.
 *
 * <p>Each holder (a tier of the memory cache, a reader copying from it) owns one reference: it
 * gains it from the factory or from {@link #retain}, and gives it up with {@link #release}. When
 * the last reference of a pooled span is released, its array returns to the pool and the span is
 * dead: {@link #retain} fails from then on, so no holder reads an array that contains another span's
 * bytes by now. Unpooled spans are never recycled and count no references. Thread-safe.
 */
final class InflatedSpan {
  /** A span without tar bytes, such as the last span of some layers. */
  static final InflatedSpan EMPTY = new InflatedSpan(new byte[0], 0, null);

  private final byte[] bytes;
  private final int length;
  private final @Nullable SpanBufferPool pool;
  private final AtomicInteger references = new AtomicInteger(1);

  private InflatedSpan(byte[] bytes, int length, @Nullable SpanBufferPool pool) {
    this.bytes = bytes;
    this.length = length;
    this.pool = pool;
  }

  /** Returns a span whose first {@code length} bytes of {@code bytes} are its tar bytes. */
  static InflatedSpan unpooled(byte[] bytes, int length) {
    Objects.checkFromIndexSize(0, length, bytes.length);
    return new InflatedSpan(bytes, length, null);
  }

  /**
   * Returns a span in an array taken from {@code pool}, with one reference for the caller; the
   * array goes back to the pool when the last reference is released.
   */
  static InflatedSpan pooled(byte[] bytes, int length, SpanBufferPool pool) {
    Objects.checkFromIndexSize(0, length, bytes.length);
    return new InflatedSpan(bytes, length, pool);
  }

  /** Returns the number of tar bytes. */
  int length() {
    return length;
  }

  /** Returns the size of the array, which the memory cache charges. */
  int capacity() {
    return bytes.length;
  }

  /**
   * Adds a reference for the caller. Returns false, and adds none, when the span is dead: its
   * array went back to the pool, and the caller must find the span elsewhere.
   */
  boolean retain() {
    if (pool == null) {
      return true;
    }
    while (true) {
      int count = references.get();
      if (count == 0) {
        return false;
      }
      if (references.compareAndSet(count, count + 1)) {
        return true;
      }
    }
  }

  /** Returns false once a pooled span is dead; an unpooled span is always alive. */
  boolean isAlive() {
    return pool == null || references.get() > 0;
  }

  /** Gives up the caller's reference; the last one returns a pooled array to its pool. */
  void release() {
    if (pool == null) {
      return;
    }
    int count = references.decrementAndGet();
    if (count < 0) {
      throw new IllegalStateException("span released more often than retained");
    }
    if (count == 0 && pool != null) {
      pool.give(bytes);
    }
  }

  /** Copies {@code count} tar bytes from {@code from} to {@code destination}; needs a reference. */
  void copyTo(int from, ByteBuffer destination, int count) {
    Objects.checkFromIndexSize(from, count, length);
    destination.put(bytes, from, count);
  }
}
