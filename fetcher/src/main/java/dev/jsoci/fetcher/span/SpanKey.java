package dev.jsoci.fetcher.span;

import dev.jsoci.oci.Digest;
import dev.jsoci.ztoc.Span;
import java.util.Objects;

/**
 * Names one span of one layer in the caches. The key contains the span's ranges as well as its id,
 * because two zTOCs of the same layer built with different span sizes give the same id to different
 * bytes.
 */
record SpanKey(Digest layer, Span span) {
  SpanKey {
    Objects.requireNonNull(layer, "layer");
    Objects.requireNonNull(span, "span");
  }

  int spanId() {
    return span.id();
  }
}
