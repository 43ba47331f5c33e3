package dev.jsoci.oci;

/**
 * The compression of a layer blob as its media type declares it, and whether a zTOC can be built
 * for such a layer. {@link MediaType#layerCompression(String)} maps media types to these values.
 */
public enum LayerCompression {
  /** gzip: the zTOC records gzip checkpoints. */
  GZIP(true),

  /** Exactly {@code application/vnd.oci.image.layer.v1.tar}: indexed as a plain tar. */
  UNCOMPRESSED(true),

  /**
   * Docker {@code ...rootfs.diff.tar} and {@code ...rootfs.foreign.diff.tar}. These types are
   * sometimes used for gzip blobs, so containerd calls their compression "unknown" and detects it
   * from the bytes. SOCI indexes them as plain tar, and a build over gzip bytes fails.
   */
  UNKNOWN(true),

  /** zstd: recognised, but SOCI has no zTOC format for it, so the layer is skipped. */
  ZSTD(false),

  /**
   * A layer type whose compression SOCI does not handle, so the layer is skipped: a Docker type
   * with any {@code +suffix}, the OCI non-distributable plain tar, or an OCI layer type whose last
   * sorted suffix is neither {@code gzip} nor {@code zstd} (such as {@code tar+encrypted}).
   */
  UNSUPPORTED(false),

  /**
   * Not a layer type containerd can unpack, for example {@code application/vnd.oci.image.layer.} or
   * any non-layer type. A SOCI index build fails on such a layer.
   */
  UNRECOGNISED(false);

  private final boolean indexable;

  LayerCompression(boolean indexable) {
    this.indexable = indexable;
  }

  /** Returns whether a zTOC can be built for a layer with this compression. */
  public boolean indexable() {
    return indexable;
  }
}
