package dev.jsoci.ztoc;

/**
 * One span of a layer: a compressed byte range of the layer blob and the uncompressed range of
 * the tar stream that it inflates to. Both ranges are half-open.
 *
 * <p>For gzip, consecutive compressed ranges overlap by one byte when a checkpoint starts in the
 * middle of a byte. For plain tar layers the last span may have {@code uncompressedEnd <
 * uncompressedStart}, because the archive size excludes the record padding; no file lies in such
 * a span.
 */
public record Span(
    int id, long compressedStart, long compressedEnd, long uncompressedStart, long uncompressedEnd) {

  public long compressedLength() {
    return compressedEnd - compressedStart;
  }

  /** Returns the uncompressed length, or 0 when the span's uncompressed range is empty or negative. */
  public long uncompressedLength() {
    return Math.max(0, uncompressedEnd - uncompressedStart);
  }
}
