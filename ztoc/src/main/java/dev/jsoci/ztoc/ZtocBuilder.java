package dev.jsoci.ztoc;

import dev.jsoci.ztoc.gzip.GzipCheckpointStream;
import dev.jsoci.ztoc.gzip.GzipZinfo;
import dev.jsoci.ztoc.tar.TarIndex;
import dev.jsoci.ztoc.tar.TarIndexer;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.util.List;

/**
 * Builds the zTOC of a layer blob in one pass: a gzip tar gets checkpoints at deflate block
 * boundaries, a plain tar fixed-size spans, and both get the TOC and the span digests.
 *
 * <p>The result is byte-identical to what AWS's {@code soci} builds from the same blob with the
 * same span size and build tool identifier, except that no duplicate checkpoint is written when a
 * gzip stream starts with empty deflate blocks.
 */
public final class ZtocBuilder {
  /** The default span size, 4 MiB of uncompressed data. */
  public static final long DEFAULT_SPAN_SIZE = 4L << 20;

  private static final int GZIP_MAGIC_1 = 0x1f;
  private static final int GZIP_MAGIC_2 = 0x8b;
  private static final int DRAIN_BUFFER_BYTES = 256 * 1024;

  private final long spanSize;
  private final String buildToolIdentifier;

  /**
   * @param spanSize uncompressed bytes between checkpoints, at least 1
   * @param buildToolIdentifier the text stored in the zTOC's {@code build_tool_identifier}
   */
  public ZtocBuilder(long spanSize, String buildToolIdentifier) {
    if (spanSize <= 0) {
      throw new IllegalArgumentException("spanSize must be positive: " + spanSize);
    }
    this.spanSize = spanSize;
    this.buildToolIdentifier = buildToolIdentifier;
  }

  /**
   * Reads the whole layer blob and returns its zTOC. Gzip is recognised by its magic bytes;
   * anything else is read as a plain tar. The stream is read to its end but not closed.
   *
   * @param layer the layer's name for messages, a digest or a file path
   * @throws LayerFormatException if the blob is not a gzip or plain tar layer, is truncated or
   *     corrupt; {@link UnsupportedLayerException} if it contains sparse files
   */
  public Ztoc build(InputStream blob, String layer) throws IOException {
    // The gzip reader buffers large reads itself, so a gzip blob gets no buffer in between, which
    // would copy every byte once more.
    PushbackInputStream in = new PushbackInputStream(blob, 2);
    int first = in.read();
    if (first == -1) {
      throw new LayerFormatException(layer, 0, "empty blob, not a gzip or tar layer");
    }
    int second = in.read();
    if (second != -1) {
      in.unread(second);
    }
    in.unread(first);
    if (first == GZIP_MAGIC_1 && second == GZIP_MAGIC_2) {
      return buildGzip(in, layer);
    }
    return buildTar(new BufferedInputStream(in, DRAIN_BUFFER_BYTES), layer);
  }

  private Ztoc buildGzip(InputStream in, String layer) throws IOException {
    try (GzipCheckpointStream tar = new GzipCheckpointStream(in, spanSize, layer)) {
      TarIndex index = TarIndexer.index(tar, layer);
      drain(tar);
      GzipZinfo zinfo = tar.toZinfo(index.uncompressedArchiveSize());
      return new Ztoc(
          Ztoc.VERSION,
          buildToolIdentifier,
          tar.compressedSize(),
          index.uncompressedArchiveSize(),
          index.entries(),
          CompressionAlgorithm.GZIP,
          zinfo.maxSpanId(),
          tar.spanDigests(),
          zinfo.toBytes());
    }
  }

  private Ztoc buildTar(InputStream in, String layer) throws IOException {
    SpanDigestingStream tar = new SpanDigestingStream(in, spanSize);
    TarIndex index;
    try {
      index = TarIndexer.index(tar, layer);
    } catch (LayerFormatException e) {
      if (tar.position() <= 512 && !(e instanceof UnsupportedLayerException)) {
        throw new LayerFormatException(layer, 0, "not a gzip or tar layer", e);
      }
      throw e;
    }
    drain(tar);
    TarZinfo zinfo = TarZinfo.of(spanSize, tar.position(), index.uncompressedArchiveSize());
    List<String> digests = tar.finish();
    return new Ztoc(
        Ztoc.VERSION,
        buildToolIdentifier,
        tar.position(),
        index.uncompressedArchiveSize(),
        index.entries(),
        CompressionAlgorithm.UNCOMPRESSED,
        zinfo.maxSpanId(),
        digests,
        zinfo.toBytes());
  }

  /** Reads what follows the end-of-archive marker, so checkpoints and digests cover the blob. */
  private static void drain(InputStream in) throws IOException {
    byte[] buffer = new byte[DRAIN_BUFFER_BYTES];
    while (in.read(buffer) != -1) {
      // Only the side effects of reading matter here.
    }
  }
}
