package dev.jsoci.oci;

/**
 * The action a SOCI index build takes for one layer of an image manifest. {@link #of} decides it
 * from the layer descriptor, with the checks in the order the SOCI reference implementation applies
 * them.
 */
public enum LayerIndexDecision {
  /** A prefetch artifact listed among the layers: ignored. */
  IGNORE_PREFETCH,

  /** Not a layer media type: the whole index build fails. */
  FAIL_NOT_A_LAYER,

  /** Compressed size below the minimum layer size: no zTOC. */
  SKIP_BELOW_MIN_SIZE,

  /** A layer type containerd cannot classify: the whole index build fails. */
  FAIL_UNRECOGNISED_TYPE,

  /** Compressed with zstd or wrapped in an unsupported way: no zTOC. */
  SKIP_UNSUPPORTED_COMPRESSION,

  /** Build a gzip zTOC. */
  BUILD_GZIP,

  /**
   * Build a plain tar zTOC. For {@link LayerCompression#UNKNOWN} Docker layers the bytes may turn
   * out to be gzip, and then the build fails.
   */
  BUILD_TAR;

  /** The default minimum compressed layer size for a zTOC: 10 MiB. */
  public static final long DEFAULT_MIN_LAYER_SIZE_BYTES = 10L << 20;

  /**
   * Decides what to do with {@code layer}.
   *
   * @param layer a descriptor from the image manifest's {@code layers}
   * @param minLayerSizeBytes layers with a smaller compressed size get no zTOC; a layer of exactly
   *     this size is indexed
   */
  public static LayerIndexDecision of(Descriptor layer, long minLayerSizeBytes) {
    if (minLayerSizeBytes < 0) {
      throw new IllegalArgumentException(
          "minLayerSizeBytes must not be negative, found " + minLayerSizeBytes);
    }
    String mediaType = layer.mediaType();

    if (mediaType.equals(MediaType.SOCI_PREFETCH)) {
      return IGNORE_PREFETCH;
    }
    if (!MediaType.isLayer(mediaType)) {
      return FAIL_NOT_A_LAYER;
    }
    if (layer.size() < minLayerSizeBytes) {
      return SKIP_BELOW_MIN_SIZE;
    }

    switch (MediaType.layerCompression(mediaType)) {
      case GZIP:
        return BUILD_GZIP;
      case UNCOMPRESSED:
      case UNKNOWN:
        return BUILD_TAR;
      case ZSTD:
      case UNSUPPORTED:
        return SKIP_UNSUPPORTED_COMPRESSION;
      case UNRECOGNISED:
      default:
        return FAIL_UNRECOGNISED_TYPE;
    }
  }
}
