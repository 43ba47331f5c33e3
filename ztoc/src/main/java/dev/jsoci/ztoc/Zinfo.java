package dev.jsoci.ztoc;

import java.io.IOException;

/**
 * The span layout of a layer (the zTOC's {@code checkpoints} blob, decoded) and the means to
 * turn compressed bytes back into tar bytes from the start of any span.
 *
 * <p>Implementations are immutable and safe for use by many threads at once.
 */
public interface Zinfo {
  CompressionAlgorithm algorithm();

  /** Returns the span size in uncompressed bytes that the blob was built with. */
  long spanSize();

  /** Returns the id of the last span, one less than the number of spans; -1 when there are none. */
  int maxSpanId();

  /**
   * Returns span {@code id}.
   *
   * @throws IndexOutOfBoundsException unless {@code 0 <= id <= maxSpanId()}
   */
  Span span(int id);

  /**
   * Returns the span that contains the uncompressed offset: the last span whose uncompressed
   * start is at or before it, or span 0 when none is.
   */
  int spanOf(long uncompressedOffset);

  /** Returns the blob stored in the zTOC's {@code checkpoints} field. */
  byte[] toBytes();

  /**
   * Decompresses the uncompressed range {@code [uncompressedOffset, uncompressedOffset + length)}.
   *
   * @param compressed the layer bytes from {@code span(firstSpan).compressedStart()} up to at least
   *     the compressed end of the span that holds the range's last byte
   * @param firstSpan the span that holds {@code uncompressedOffset}
   * @return exactly {@code length} bytes
   * @throws ZtocFormatException if the bytes do not decompress to the full range
   */
  default byte[] decompress(byte[] compressed, int firstSpan, long uncompressedOffset, int length)
      throws IOException {
    if (length < 0) {
      throw new IllegalArgumentException("length is " + length + ", expected >= 0");
    }
    byte[] result = new byte[length];
    decompress(compressed, firstSpan, uncompressedOffset, result, length);
    return result;
  }

  /**
   * Decompresses the same range as {@link #decompress(byte[], int, long, int)} into the first
   * {@code length} bytes of {@code destination}, which may be longer, so that a caller can reuse
   * arrays. The rest of {@code destination} is left as it was.
   *
   * @throws IllegalArgumentException if {@code destination} is shorter than {@code length}
   */
  void decompress(
      byte[] compressed, int firstSpan, long uncompressedOffset, byte[] destination, int length)
      throws IOException;
}
