package dev.jsoci.fetcher.span;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.Zinfo;
import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * The compressed bytes of one span, checked against the span digest (unless verification is off),
 * or the span's inflated form as the memory cache held it. Readers that wait for the same fetch
 * share one inflation while its result is alive. Thread-safe.
 */
final class VerifiedSpan {
  private final Span span;
  private final byte @Nullable [] compressed;

  /**
   * The last inflated form, without a reference of its own: it may be dead by the time a reader
   * asks for it (see {@link InflatedSpan#retain}).
   */
  @GuardedBy("this")
  private @Nullable InflatedSpan inflated;

  private VerifiedSpan(Span span, byte @Nullable [] compressed, @Nullable InflatedSpan inflated) {
    this.span = span;
    this.compressed = compressed;
    this.inflated = inflated;
  }

  /** Returns a span known by its verified compressed bytes, inflated on first use. */
  static VerifiedSpan ofCompressed(Span span, byte[] compressed) {
    return new VerifiedSpan(span, compressed, null);
  }

  /**
   * Returns a span known only by its inflated form, as found in the memory cache. The caller keeps
   * its own reference to {@code inflated}, and readers retain their own.
   */
  static VerifiedSpan ofInflated(Span span, InflatedSpan inflated) {
    return new VerifiedSpan(span, null, inflated);
  }

  Span span() {
    return span;
  }

  /**
   * Returns whether the inflated form is alive now, so that {@link #acquireInflated} would probably
   * allocate nothing. It may die before that call.
   */
  synchronized boolean isInflated() {
    return inflated != null && inflated.isAlive();
  }

  /**
   * Returns the span's tar bytes, {@code [uncompressedStart, uncompressedEnd)}, with a reference
   * for the caller, who releases it. The inflated form of an earlier call is shared while it is
   * alive; otherwise the compressed bytes are inflated into an array of {@code pool}. A span whose
   * uncompressed range is empty or negative, such as the last span of some layers, gives {@link
   * InflatedSpan#EMPTY}.
   *
   * @return null when the span is known only by an inflated form that is dead by now: the caller
   *     must load the span again
   * @throws IOException if the bytes do not inflate to the span's full length
   */
  synchronized @Nullable InflatedSpan acquireInflated(Zinfo zinfo, SpanBufferPool pool)
      throws IOException {
    if (inflated != null && inflated.retain()) {
      return inflated;
    }
    if (compressed == null) {
      return null;
    }
    inflated = pool.inflate(zinfo, span, compressed);
    return inflated;
  }
}
