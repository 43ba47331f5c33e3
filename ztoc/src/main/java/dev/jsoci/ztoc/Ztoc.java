package dev.jsoci.ztoc;

import java.util.List;

/**
 * A decoded zTOC: the table of contents of one layer and the span layout that lets any range of
 * it be inflated on its own.
 *
 * @param version the format version text, {@code 0.9} for every zTOC written so far
 * @param compressedArchiveSize the size of the layer blob in bytes
 * @param uncompressedArchiveSize the tar offset just after the end-of-archive marker, which is
 *     not necessarily the full decompressed length
 * @param entries the tar entries in tar order as written; readers sort them by offset
 * @param maxSpanId the number of spans minus one
 * @param spanDigests {@code sha256:<hex>} of each span's compressed bytes, one per span
 * @param checkpoints the encoded {@link Zinfo} blob
 */
public record Ztoc(
    String version,
    String buildToolIdentifier,
    long compressedArchiveSize,
    long uncompressedArchiveSize,
    List<TocEntry> entries,
    CompressionAlgorithm compressionAlgorithm,
    int maxSpanId,
    List<String> spanDigests,
    byte[] checkpoints) {

  /** The only zTOC version there is. */
  public static final String VERSION = "0.9";

  public Ztoc {
    entries = List.copyOf(entries);
    spanDigests = List.copyOf(spanDigests);
    checkpoints = checkpoints.clone();
  }

  @Override
  public byte[] checkpoints() {
    return checkpoints.clone();
  }

  /**
   * Returns the checkpoint blob itself, for decoders in this package that keep it without a copy.
   * Callers must never modify it: a zTOC of a large layer keeps megabytes of windows there.
   */
  byte[] checkpointsWithoutCopy() {
    return checkpoints;
  }
}
