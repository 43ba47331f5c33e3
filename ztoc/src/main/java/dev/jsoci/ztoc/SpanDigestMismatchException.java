package dev.jsoci.ztoc;

import java.io.IOException;

/** The compressed bytes of a span do not hash to the digest the zTOC records for it. */
public class SpanDigestMismatchException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int spanId;

  public SpanDigestMismatchException(String layer, int spanId, String expected, String actual) {
    super(
        "layer "
            + layer
            + ": span "
            + spanId
            + " has digest "
            + actual
            + ", but the ztoc expects "
            + expected);
    this.spanId = spanId;
  }

  public int spanId() {
    return spanId;
  }
}
