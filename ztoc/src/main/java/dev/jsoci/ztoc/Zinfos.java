package dev.jsoci.ztoc;

import dev.jsoci.ztoc.gzip.GzipZinfo;

/** Decodes and checks the span layout of a zTOC. */
public final class Zinfos {
  private Zinfos() {}

  /**
   * Returns the span layout of {@code ztoc}, checked as a reader must before serving reads: the
   * number of spans agrees with {@code max_span_id} and with the number of span digests.
   *
   * @param source what the zTOC is, for messages (a digest or a file name)
   * @throws ZtocFormatException if the checkpoints cannot be decoded or disagree with the zTOC
   */
  public static Zinfo of(Ztoc ztoc, String source) throws ZtocFormatException {
    Zinfo zinfo;
    try {
      zinfo =
          switch (ztoc.compressionAlgorithm()) {
            // The zTOC never changes its blob, so the Zinfo may share it.
            case GZIP -> GzipZinfo.parseShared(
                ztoc.checkpointsWithoutCopy(),
                ztoc.compressedArchiveSize(),
                ztoc.uncompressedArchiveSize());
            case UNCOMPRESSED -> TarZinfo.parse(
                ztoc.checkpointsWithoutCopy(),
                ztoc.compressedArchiveSize(),
                ztoc.uncompressedArchiveSize());
          };
    } catch (ZtocFormatException e) {
      throw new ZtocFormatException("invalid ztoc " + source + ": " + e.getMessage(), e);
    }
    if (zinfo.maxSpanId() != ztoc.maxSpanId()) {
      throw new ZtocFormatException(
          "invalid ztoc "
              + source
              + ": max_span_id is "
              + ztoc.maxSpanId()
              + " but the checkpoints give "
              + zinfo.maxSpanId());
    }
    if (ztoc.spanDigests().size() != ztoc.maxSpanId() + 1) {
      throw new ZtocFormatException(
          "invalid ztoc "
              + source
              + ": "
              + ztoc.spanDigests().size()
              + " span digests for "
              + (ztoc.maxSpanId() + 1)
              + " spans");
    }
    return zinfo;
  }
}
