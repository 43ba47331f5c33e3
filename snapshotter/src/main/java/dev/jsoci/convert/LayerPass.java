package dev.jsoci.convert;

import dev.jsoci.convert.LayerReport.Outcome;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.LayerCompression;
import dev.jsoci.oci.LayerIndexDecision;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.SociIndex;
import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.CompressionAlgorithm;
import dev.jsoci.ztoc.LayerFormatException;
import dev.jsoci.ztoc.PaxRecord;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.Zinfos;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocBuilder;
import dev.jsoci.ztoc.ZtocCodec;
import dev.jsoci.ztoc.zstd.ZstdDecompressingInputStream;
import dev.jsoci.ztoc.zstd.ZstdFormatException;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Processes one layer in a single read of its blob: the bytes stream from the source store through
 * the zTOC builder and, when the destination lacks the layer, on to the destination in the same
 * pass.
 *
 * <h2>The pass</h2>
 *
 * <pre>
 * source blob ─▶ digest check ─▶ tee ─▶ zTOC builder (inflates gzip, reads the tar)
 *                                 └──▶ destination BlobWriter (when a copy is needed)
 * </pre>
 *
 * With {@code forceGzip}, a plain tar layer is compressed on the way instead:
 *
 * <pre>
 * source blob ─▶ digest check ─▶ gzip compressor ─▶ tee ─▶ zTOC builder
 *                                                    └──▶ destination BlobWriter
 * </pre>
 *
 * The gzip layer's digest is known only at its end, so its writer is opened without an expected
 * descriptor. The tar bytes do not change, so the diff_ids of the image config stay valid. A zstd
 * layer takes the same path after a zstd decoder, whose tar output is checked against the layer's
 * diff_id before the gzip blob is committed.
 *
 * <p>When the builder rejects the content (corrupt gzip, sparse files, a media type that does not
 * match the bytes), the rest of the blob is still read, so the copy completes and the digest is
 * checked, and the layer is reported as failed. A digest mismatch or a read error is not a layer
 * problem and is thrown.
 */
final class LayerPass {
  private static final ByteString XATTR_RECORD_PREFIX = ByteString.utf8("SCHILY.xattr.");
  private static final ByteString OPAQUE_MARKER = ByteString.utf8("/.wh..wh..opq");
  private static final ByteString OPAQUE_MARKER_AT_ROOT = ByteString.utf8(".wh..wh..opq");

  private static final int GZIP_MAGIC_1 = 0x1f;
  private static final int GZIP_MAGIC_2 = 0x8b;
  private static final int COPY_BUFFER_BYTES = 256 * 1024;

  private final ImageStore source;
  private final ImageStore destination;
  private final boolean sameStore;
  private final ConvertOptions options;
  private final ZtocBuilder builder;

  LayerPass(ImageStore source, ImageStore destination, boolean sameStore, ConvertOptions options) {
    this.source = source;
    this.destination = destination;
    this.sameStore = sameStore;
    this.options = options;
    this.builder = new ZtocBuilder(options.spanSizeBytes(), options.buildToolIdentifier());
  }

  /**
   * Indexes, re-compresses, skips and copies {@code layer} according to the options.
   *
   * @param diffId the image config's {@code diff_id} of the layer, checked against the tar of a
   *     zstd layer that is re-compressed; null to skip that check
   */
  LayerReport process(Descriptor layer, @Nullable Digest diffId, String platform)
      throws IOException {
    long start = System.nanoTime();
    LayerCompression compression = MediaType.layerCompression(layer.mediaType());
    boolean isLayer = MediaType.isLayer(layer.mediaType());

    if (options.forceGzip() && isLayer && isPlainTar(compression)) {
      return recompress(layer, platform, start);
    }
    if (options.forceGzip() && isLayer && compression == LayerCompression.ZSTD) {
      return recompressZstd(layer, diffId, platform, start);
    }

    LayerIndexDecision decision = LayerIndexDecision.of(layer, options.minLayerSizeBytes());
    switch (decision) {
      case BUILD_GZIP:
      case BUILD_TAR:
        return index(layer, platform, decision == LayerIndexDecision.BUILD_GZIP, start);
      case FAIL_NOT_A_LAYER:
      case FAIL_UNRECOGNISED_TYPE:
        {
          long copied = copy(layer);
          return report(
              layer,
              layer,
              platform,
              Outcome.FAILED,
              skipReason(decision, layer),
              null,
              copied,
              start);
        }
      default:
        {
          long copied = copy(layer);
          return skipped(layer, platform, skipReason(decision, layer), copied, start);
        }
    }
  }

  /**
   * Returns why a layer with {@code decision} gets no zTOC, as a short phrase, or an empty string
   * when it gets one.
   */
  static String skipReason(LayerIndexDecision decision, Descriptor layer, long minLayerSizeBytes) {
    switch (decision) {
      case IGNORE_PREFETCH:
        return "prefetch artifact, not a layer";
      case FAIL_NOT_A_LAYER:
        return "not a layer media type: " + layer.mediaType();
      case FAIL_UNRECOGNISED_TYPE:
        return "unrecognised layer media type: " + layer.mediaType();
      case SKIP_BELOW_MIN_SIZE:
        return "below the minimum layer size of " + minLayerSizeBytes + " bytes";
      case SKIP_UNSUPPORTED_COMPRESSION:
        return MediaType.layerCompression(layer.mediaType()) == LayerCompression.ZSTD
            ? "zstd compression, which zTOCs do not support (--force-gzip re-compresses it)"
            : "compression not supported by zTOCs: " + layer.mediaType();
      default:
        return "";
    }
  }

  private String skipReason(LayerIndexDecision decision, Descriptor layer) {
    return skipReason(decision, layer, options.minLayerSizeBytes());
  }

  private static boolean isPlainTar(LayerCompression compression) {
    return compression == LayerCompression.UNCOMPRESSED || compression == LayerCompression.UNKNOWN;
  }

  // ---- Index a layer as it is -----------------------------------------------------------------

  private LayerReport index(Descriptor layer, String platform, boolean expectGzip, long start)
      throws IOException {
    long uploaded = 0;
    @Nullable Ztoc ztoc = null;
    String failure = "";
    @Nullable IOException uploadFailure = null;

    try (InputStream blob = source.openBlob(layer);
        BlobWriter writer = newCopyWriter(layer)) {
      if (writer != null) {
        // The writer gets every byte of the blob stream, which checks the digest when drain
        // reaches its end, before the commit. Hashing the bytes a second time would only cost CPU.
        writer.skipDigestCheck();
      }
      InputStream in = writer == null ? blob : new TeeInputStream(blob, writer);
      try {
        ztoc = builder.build(new KeptOpen(in), layer.digest().toString());
      } catch (LayerFormatException e) {
        failure = e.getMessage();
      }
      drain(in);
      if (writer != null) {
        try {
          if (writer.commit(layer.digest())) {
            uploaded += layer.size();
          }
        } catch (BlobDigestMismatchException e) {
          throw e;
        } catch (IOException e) {
          uploadFailure = e;
        }
      }
    }

    // A streamed upload cannot restart after a broken connection; copy again with retries.
    if (uploadFailure != null) {
      try {
        uploaded += copy(layer);
      } catch (IOException e) {
        e.addSuppressed(uploadFailure);
        throw e;
      }
    }

    if (ztoc != null) {
      boolean isGzip = ztoc.compressionAlgorithm() == CompressionAlgorithm.GZIP;
      if (isGzip != expectGzip) {
        failure =
            "media type "
                + layer.mediaType()
                + (expectGzip
                    ? " names gzip but the blob is not gzip"
                    : " names a plain tar but the blob is gzip");
        ztoc = null;
      }
    }
    if (ztoc == null) {
      return report(layer, layer, platform, Outcome.FAILED, failure, null, uploaded, start);
    }
    return indexed(layer, layer, platform, ztoc, uploaded, start);
  }

  /**
   * Returns a writer that copies {@code layer} to the destination, or null when the destination has
   * it already or got it by a mount.
   */
  private @Nullable BlobWriter newCopyWriter(Descriptor layer) throws IOException {
    if (sameStore || destination.hasBlob(layer.digest())) {
      return null;
    }
    if (destination.mountBlob(layer, source)) {
      return null;
    }
    return destination.newBlobWriter(layer);
  }

  // ---- Re-compress a plain tar layer to gzip and index it -------------------------------------

  private LayerReport recompress(Descriptor layer, String platform, long start) throws IOException {
    try (InputStream blob = new BufferedInputStream(source.openBlob(layer), COPY_BUFFER_BYTES)) {
      // A Docker diff.tar layer may contain gzip bytes, which must not be compressed again.
      blob.mark(2);
      boolean alreadyGzip = blob.read() == GZIP_MAGIC_1 && blob.read() == GZIP_MAGIC_2;
      blob.reset();
      if (alreadyGzip) {
        long copied = copyFrom(blob, layer);
        return report(
            layer,
            layer,
            platform,
            Outcome.FAILED,
            "media type " + layer.mediaType() + " names a plain tar but the blob is gzip",
            null,
            copied,
            start);
      }

      @Nullable Ztoc ztoc = null;
      String failure = "";
      Descriptor gzipLayer;
      long uploaded = 0;
      try (GzipCompressingInputStream gzip = new GzipCompressingInputStream(blob);
          BlobWriter writer = destination.newBlobWriter(null)) {
        InputStream in = new TeeInputStream(gzip, writer);
        try {
          ztoc = builder.build(new KeptOpen(in), layer.digest() + " (re-compressed to gzip)");
        } catch (LayerFormatException e) {
          failure = e.getMessage();
        }
        drain(in);
        long gzipSize = writer.sizeBytes();
        Digest digest = writer.commit();
        if (writer.stored()) {
          uploaded += gzipSize;
        }
        gzipLayer = gzipDescriptor(layer, digest, gzipSize);
      }

      return recompressed(layer, gzipLayer, platform, ztoc, failure, uploaded, start);
    }
  }

  /**
   * Returns the descriptor of the gzip layer that replaces {@code layer}: the gzip media type of
   * the same family, the new digest and size, and no URLs, since those named the old blob.
   */
  static Descriptor gzipDescriptor(Descriptor layer, Digest digest, long sizeBytes) {
    return layer.toBuilder()
        .mediaType(gzipMediaType(layer.mediaType()))
        .digest(digest)
        .size(sizeBytes)
        .urls(List.of())
        .build();
  }

  /** Returns the gzip media type that corresponds to a plain tar or zstd layer media type. */
  static String gzipMediaType(String mediaType) {
    switch (mediaType) {
      case MediaType.DOCKER_LAYER_TAR:
      case MediaType.DOCKER_LAYER_TAR_ZSTD:
        return MediaType.DOCKER_LAYER_TAR_GZIP;
      case MediaType.DOCKER_FOREIGN_LAYER_TAR:
        return MediaType.DOCKER_FOREIGN_LAYER_TAR_GZIP;
      case MediaType.OCI_LAYER_NONDISTRIBUTABLE_TAR:
      case MediaType.OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD:
        return MediaType.OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP;
      default:
        return MediaType.OCI_LAYER_TAR_GZIP;
    }
  }

  // ---- Re-compress a zstd layer to gzip and index it -------------------------------------------

  /**
   * Decompresses a zstd layer, checks its tar against {@code diffId}, and compresses the tar to
   * gzip on the way to the zTOC builder and the destination, as {@link #recompress} does for a
   * plain tar. A corrupt zstd stream keeps the zstd layer, copied as it is, and fails the layer.
   *
   * @throws IOException if the tar's digest is not {@code diffId}, the source blob does not match
   *     its digest, the system libzstd is missing, or reading or writing fails
   */
  private LayerReport recompressZstd(
      Descriptor layer, @Nullable Digest diffId, String platform, long start) throws IOException {
    String name = "layer " + layer.digest();
    @Nullable Ztoc ztoc = null;
    String failure = "";
    Descriptor gzipLayer;
    long uploaded = 0;
    try (InputStream blob = source.openBlob(layer);
        ZstdDecompressingInputStream zstd = new ZstdDecompressingInputStream(blob, name);
        HashingInputStream tar =
            new HashingInputStream(zstd, diffId == null ? Digest.sha256Hasher() : diffId.hasher());
        GzipCompressingInputStream gzip =
            new GzipCompressingInputStream(new BufferedInputStream(tar, COPY_BUFFER_BYTES));
        BlobWriter writer = destination.newBlobWriter(null)) {
      InputStream in = new TeeInputStream(gzip, writer);
      try {
        ztoc = builder.build(new KeptOpen(in), layer.digest() + " (re-compressed to gzip)");
      } catch (LayerFormatException e) {
        failure = e.getMessage();
      }
      drain(in);

      Digest tarDigest = tar.digest();
      if (diffId != null && !diffId.equals(tarDigest)) {
        throw new IOException(
            name
                + ": uncompressed digest "
                + tarDigest
                + " does not match the config's diff_id "
                + diffId);
      }
      long gzipSize = writer.sizeBytes();
      Digest digest = writer.commit();
      if (writer.stored()) {
        uploaded += gzipSize;
      }
      gzipLayer = gzipDescriptor(layer, digest, gzipSize);
    } catch (ZstdFormatException e) {
      // The partial gzip blob is discarded; the image keeps the zstd layer it had.
      long copied = copy(layer);
      return report(layer, layer, platform, Outcome.FAILED, e.getMessage(), null, copied, start);
    }

    return recompressed(layer, gzipLayer, platform, ztoc, failure, uploaded, start);
  }

  // ---- Copy without indexing ------------------------------------------------------------------

  /** Copies {@code blob} to the destination unless it is there; returns the bytes sent. */
  long copy(Descriptor blob) throws IOException {
    if (sameStore) {
      return 0;
    }
    return destination.copyBlob(blob, source) ? blob.size() : 0;
  }

  private long copyFrom(InputStream in, Descriptor blob) throws IOException {
    if (sameStore || destination.hasBlob(blob.digest())) {
      drain(in);
      return 0;
    }
    try (BlobWriter writer = destination.newBlobWriter(blob)) {
      in.transferTo(writer);
      return writer.commit(blob.digest()) ? blob.size() : 0;
    }
  }

  // ---- Results --------------------------------------------------------------------------------

  /**
   * Returns the report of a layer re-compressed to {@code gzipLayer}: indexed, skipped as too small
   * after re-compression, or failed with {@code failure} when no zTOC was built.
   */
  private LayerReport recompressed(
      Descriptor layer,
      Descriptor gzipLayer,
      String platform,
      @Nullable Ztoc ztoc,
      String failure,
      long uploaded,
      long start)
      throws IOException {
    if (ztoc == null) {
      return report(layer, gzipLayer, platform, Outcome.FAILED, failure, null, uploaded, start);
    }
    if (gzipLayer.size() < options.minLayerSizeBytes()) {
      return skipped(
          layer,
          gzipLayer,
          platform,
          "below the minimum layer size of "
              + options.minLayerSizeBytes()
              + " bytes after re-compression to gzip",
          uploaded,
          start);
    }
    return indexed(layer, gzipLayer, platform, ztoc, uploaded, start);
  }

  private LayerReport indexed(
      Descriptor source, Descriptor layer, String platform, Ztoc ztoc, long uploaded, long start)
      throws IOException {
    byte[] bytes = ZtocCodec.encode(ztoc);
    Descriptor blob = Descriptor.of(MediaType.SOCI_ZTOC, Digest.sha256Of(bytes), bytes.length);
    if (destination.writeBlob(blob, bytes)) {
      uploaded += bytes.length;
    }
    boolean disableXattrs = options.xattrOptimization() && !usesXattrs(ztoc);
    Descriptor ztocDescriptor =
        SociIndex.ztocDescriptor(
            blob.digest(), blob.size(), layer, options.spanSizeBytes(), disableXattrs);
    PrefetchFiles.@Nullable LayerFiles prefetchFiles = null;
    if (!options.prefetchFiles().isEmpty()) {
      Zinfo zinfo = Zinfos.of(ztoc, layer.digest().toString());
      prefetchFiles = PrefetchFiles.LayerFiles.of(ztoc, zinfo);
    }
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
    return new LayerReport(
        platform,
        source,
        layer,
        Outcome.INDEXED,
        "",
        ztocDescriptor,
        prefetchFiles,
        uploaded,
        elapsed);
  }

  /**
   * Returns whether a layer needs getxattr: an entry has extended attributes ({@code
   * SCHILY.xattr.*} PAX records) or the layer has an opaque directory, which the mount shows as an
   * xattr.
   */
  private static boolean usesXattrs(Ztoc ztoc) {
    for (TocEntry entry : ztoc.entries()) {
      for (PaxRecord record : entry.paxRecords()) {
        if (record.key().startsWith(XATTR_RECORD_PREFIX)) {
          return true;
        }
      }
      ByteString name = entry.name();
      if (name.equals(OPAQUE_MARKER_AT_ROOT) || name.endsWith(OPAQUE_MARKER)) {
        return true;
      }
    }
    return false;
  }

  private static LayerReport skipped(
      Descriptor layer, String platform, String reason, long uploaded, long start) {
    return skipped(layer, layer, platform, reason, uploaded, start);
  }

  private static LayerReport skipped(
      Descriptor source,
      Descriptor layer,
      String platform,
      String reason,
      long uploaded,
      long start) {
    return report(source, layer, platform, Outcome.SKIPPED, reason, null, uploaded, start);
  }

  private static LayerReport report(
      Descriptor source,
      Descriptor layer,
      String platform,
      Outcome outcome,
      String reason,
      @Nullable Descriptor ztoc,
      long uploaded,
      long start) {
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
    return new LayerReport(platform, source, layer, outcome, reason, ztoc, null, uploaded, elapsed);
  }

  private static void drain(InputStream in) throws IOException {
    byte[] buffer = new byte[COPY_BUFFER_BYTES];
    while (in.read(buffer) != -1) {
      // Reading pushes the bytes through the tee and the digest check.
    }
  }

  /** Passes reads through and hashes the bytes read. */
  private static final class HashingInputStream extends FilterInputStream {
    private final Digest.Hasher hasher;

    HashingInputStream(InputStream in, Digest.Hasher hasher) {
      super(in);
      this.hasher = hasher;
    }

    @Override
    public int read() throws IOException {
      byte[] single = new byte[1];
      int n = read(single, 0, 1);
      return n < 0 ? -1 : single[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = in.read(buffer, offset, length);
      if (n > 0) {
        hasher.update(buffer, offset, n);
      }
      return n;
    }

    /** Reads the skipped bytes, so that they are hashed too. */
    @Override
    public long skip(long n) throws IOException {
      byte[] buffer = new byte[(int) Math.min(Math.max(n, 0), 64 * 1024)];
      int read = read(buffer, 0, buffer.length);
      return Math.max(read, 0);
    }

    @Override
    public boolean markSupported() {
      return false;
    }

    /** Returns the digest of the bytes read so far and resets the hasher. */
    Digest digest() {
      return hasher.digest();
    }
  }

  /**
   * Passes reads through but ignores {@code close()}, because the zTOC builder closes its input and
   * the pass still has to read the rest of the blob after a build failure.
   */
  private static final class KeptOpen extends InputStream {
    private final InputStream in;

    KeptOpen(InputStream in) {
      this.in = in;
    }

    @Override
    public int read() throws IOException {
      return in.read();
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      return in.read(buffer, offset, length);
    }

    @Override
    public int available() throws IOException {
      return in.available();
    }

    @Override
    public void close() {}
  }
}
