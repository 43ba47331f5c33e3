package dev.jsoci.fetcher.span;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.Zinfo;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * Arrays for inflated spans, reused once the spans they held leave the memory cache and their
 * readers are done.
 *
 * <p>An inflated span usually outlives a young collection, because the memory cache keeps it while
 * it is read in 128 KiB pieces; the collector then moves it to the old generation, where only a
 * full collection frees it. With the daemon's serial collector and small heap, a cold start that
 * inflated spans into new arrays spent 0.4-0.6 s of 2.9 s in full collections. Reused arrays stay
 * in the old generation and leave little for those collections to do.
 *
 * <p>At most {@code maxFreeArrays} wait in the pool; more are left to the collector. Thread-safe.
 */
final class SpanBufferPool {
  /** New arrays are sized in multiples of this. */
  static final int PAGE_BYTES = 4096;

  private final int maxFreeArrays;

  @GuardedBy("this")
  private final ArrayDeque<byte[]> free = new ArrayDeque<>();

  @GuardedBy("this")
  private long reused;

  /** @param maxFreeArrays the maximum number of arrays kept for reuse; 0 turns reuse off */
  SpanBufferPool(int maxFreeArrays) {
    if (maxFreeArrays < 0) {
      throw new IllegalArgumentException("maxFreeArrays must not be negative, found " + maxFreeArrays);
    }
    this.maxFreeArrays = maxFreeArrays;
  }

  /**
   * Inflates {@code span} from its verified compressed bytes into a pooled array, with one reference
   * for the caller.
   *
   * @throws IOException if the bytes do not inflate to the span's full length; the array goes back
   *     to the pool
   */
  InflatedSpan inflate(Zinfo zinfo, Span span, byte[] compressed) throws IOException {
    long length = span.uncompressedLength();
    if (length <= 0) {
      return InflatedSpan.EMPTY;
    }
    byte[] bytes = take((int) length);
    boolean done = false;
    try {
      zinfo.decompress(compressed, span.id(), span.uncompressedStart(), bytes, (int) length);
      done = true;
    } finally {
      if (!done) {
        give(bytes);
      }
    }
    return InflatedSpan.pooled(bytes, (int) length, this);
  }

  /**
   * Returns a free array with room for {@code length} bytes that wastes at most an eighth of them
   * (plus a page), or else a new one with a sixteenth to spare, so that spans of slightly different
   * lengths share arrays. The bound keeps an unusually long span's array from serving a short span,
   * since the memory cache charges whole arrays.
   */
  byte[] take(int length) {
    long limit = length + (length >> 3) + PAGE_BYTES;
    synchronized (this) {
      Iterator<byte[]> arrays = free.iterator();
      while (arrays.hasNext()) {
        byte[] candidate = arrays.next();
        if (candidate.length >= length && candidate.length <= limit) {
          arrays.remove();
          reused++;
          return candidate;
        }
      }
    }
    long rounded = ((long) length + (length >> 4) + PAGE_BYTES - 1) / PAGE_BYTES * PAGE_BYTES;
    return new byte[(int) Math.min(rounded, Integer.MAX_VALUE - 8)];
  }

  /** Keeps {@code bytes} for a later span, unless the pool is full; the newest are kept. */
  synchronized void give(byte[] bytes) {
    if (maxFreeArrays == 0) {
      return;
    }
    if (free.size() == maxFreeArrays) {
      free.removeLast();
    }
    free.addFirst(bytes);
  }

  /** Returns the number of arrays waiting to be reused. */
  synchronized int freeArrays() {
    return free.size();
  }

  /** Returns how many arrays were handed out again since the pool was made. */
  synchronized long reusedArrays() {
    return reused;
  }
}
