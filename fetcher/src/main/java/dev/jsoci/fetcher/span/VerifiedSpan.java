package dev.jsoci.fetcher.span;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.Zinfo;
import java.io.IOException;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The compressed bytes of one span, checked against the span digest (unless verification is off),
 * and their inflated form, computed at most once however many readers ask for it. Thread-safe.
 */
final class VerifiedSpan {
  private static final byte[] EMPTY = new byte[0];

  private final Span span;
  private final byte @Nullable [] compressed;

  @GuardedBy("this")
  private byte @Nullable [] inflated;

  private VerifiedSpan(Span span, byte @Nullable [] compressed, byte @Nullable [] inflated) {
    this.span = span;
    this.compressed = compressed;
    this.inflated = inflated;
  }

  /** Returns a span known by its verified compressed bytes, inflated on first use. */
  static VerifiedSpan ofCompressed(Span span, byte[] compressed) {
    return new VerifiedSpan(span, compressed, null);
  }

  /** Returns a span known only by its inflated bytes, as the memory cache stores it. */
  static VerifiedSpan ofInflated(Span span, byte[] inflated) {
    return new VerifiedSpan(span, null, inflated);
  }

  Span span() {
    return span;
  }

  /** Returns whether {@link #inflate} has the tar bytes already and so allocates nothing. */
  synchronized boolean isInflated() {
    return inflated != null;
  }

  /**
   * Returns the span's tar bytes, {@code [uncompressedStart, uncompressedEnd)}, inflating them on
   * the first call; callers must not modify them. A span whose uncompressed range is empty or
   * negative, such as the last span of some layers, gives an empty array.
   *
   * @throws IOException if the bytes do not inflate to the span's full length
   */
  synchronized byte[] inflate(Zinfo zinfo) throws IOException {
    if (inflated == null) {
      long length = span.uncompressedLength();
      // The compressed bytes are set whenever the inflated ones are not (see the factories).
      byte[] input = Objects.requireNonNull(compressed);
      // TODO: inflate into reused buffers. With the daemon's serial collector, a span that outlives
      // a young collection is freed only by a full one: 0.7 s of pauses in a 3.5 s cold start.
      inflated =
          length == 0
              ? EMPTY
              : zinfo.decompress(input, span.id(), span.uncompressedStart(), (int) length);
    }
    return inflated;
  }
}
