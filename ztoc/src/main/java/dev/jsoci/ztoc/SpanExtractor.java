package dev.jsoci.ztoc;

import java.io.IOException;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Copies an uncompressed range of a layer out of its compressed blob, reading and inflating only
 * the spans that hold the range, one span at a time, and checking each span's digest first.
 */
public final class SpanExtractor {
  /** Random access to the bytes of a layer blob. */
  @FunctionalInterface
  public interface BlobSource {
    /**
     * Returns exactly {@code length} bytes of the blob from {@code offset}.
     *
     * @throws IOException if the bytes cannot be read or the blob is shorter
     */
    byte[] read(long offset, int length) throws IOException;
  }

  private final Zinfo zinfo;
  private final List<String> spanDigests;
  private final String layer;

  /**
   * @param spanDigests the zTOC's span digests, one per span of {@code zinfo}
   * @param layer the layer's name for messages
   */
  public SpanExtractor(Zinfo zinfo, List<String> spanDigests, String layer) {
    if (spanDigests.size() != zinfo.maxSpanId() + 1) {
      throw new IllegalArgumentException(
          spanDigests.size() + " span digests for " + (zinfo.maxSpanId() + 1) + " spans");
    }
    this.zinfo = zinfo;
    this.spanDigests = List.copyOf(spanDigests);
    this.layer = layer;
  }

  /**
   * Writes the uncompressed bytes {@code [offset, offset + length)} to {@code out}.
   *
   * @return the number of compressed bytes read from {@code source}
   * @throws SpanDigestMismatchException if a span's bytes do not hash to its digest
   * @throws ZtocFormatException if a span does not inflate to its full length
   */
  public long extract(BlobSource source, long offset, long length, OutputStream out)
      throws IOException {
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException("invalid range: offset " + offset + ", length " + length);
    }
    if (length == 0) {
      return 0;
    }
    long end = offset + length;
    long compressedRead = 0;
    int last = zinfo.spanOf(end - 1);
    for (int id = zinfo.spanOf(offset); id <= last; id++) {
      Span span = zinfo.span(id);
      long from = Math.max(offset, span.uncompressedStart());
      long to = Math.min(end, span.uncompressedEnd());
      if (id == zinfo.maxSpanId() && to < end) {
        throw new ZtocFormatException(
            "layer " + layer + ": range ends at " + end + ", after the last span's end " + to);
      }
      if (to <= from) {
        continue;
      }
      if (span.compressedLength() > Integer.MAX_VALUE) {
        throw new ZtocFormatException(
            "layer " + layer + ": span " + id + " has " + span.compressedLength() + " bytes");
      }
      byte[] compressed = source.read(span.compressedStart(), (int) span.compressedLength());
      compressedRead += compressed.length;
      verify(id, compressed);
      out.write(zinfo.decompress(compressed, id, from, (int) (to - from)));
    }
    return compressedRead;
  }

  private void verify(int id, byte[] compressed) throws SpanDigestMismatchException {
    String actual = sha256(compressed);
    if (!actual.equals(spanDigests.get(id))) {
      throw new SpanDigestMismatchException(layer, id, spanDigests.get(id), actual);
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return "sha256:"
          + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
