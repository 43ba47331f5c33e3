package dev.jsoci.oci;

import java.util.ArrayList;
import java.util.List;

/**
 * Media types of OCI, Docker and SOCI content, and the layer classification containerd applies to
 * them.
 *
 * <p>The classification follows containerd v2.2's {@code images.IsLayerType} and {@code
 * images.DiffCompression}, which the SOCI reference implementation uses to decide which layers get
 * a zTOC. A media type is split at its first {@code +} into a base type and suffixes. The suffixes
 * are split on {@code +} (at most 50 pieces, the last keeping any further {@code +}) and sorted by
 * bytes, and for OCI layer types only the last sorted suffix decides the compression.
 */
public final class MediaType {

  // OCI image-spec v1.1 media types.
  public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
  public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
  public static final String OCI_EMPTY_JSON = "application/vnd.oci.empty.v1+json";
  public static final String OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar";
  public static final String OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
  public static final String OCI_LAYER_TAR_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
  public static final String OCI_LAYER_NONDISTRIBUTABLE_TAR =
      "application/vnd.oci.image.layer.nondistributable.v1.tar";
  public static final String OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP =
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
  public static final String OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD =
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

  // Docker image manifest v2, schema 2.
  public static final String DOCKER_MANIFEST =
      "application/vnd.docker.distribution.manifest.v2+json";
  public static final String DOCKER_MANIFEST_LIST =
      "application/vnd.docker.distribution.manifest.list.v2+json";
  public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
  public static final String DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar";
  public static final String DOCKER_LAYER_TAR_GZIP =
      "application/vnd.docker.image.rootfs.diff.tar.gzip";
  public static final String DOCKER_LAYER_TAR_ZSTD =
      "application/vnd.docker.image.rootfs.diff.tar.zstd";
  public static final String DOCKER_FOREIGN_LAYER_TAR =
      "application/vnd.docker.image.rootfs.foreign.diff.tar";
  public static final String DOCKER_FOREIGN_LAYER_TAR_GZIP =
      "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

  // SOCI artifacts.
  /** The config media type, and so the artifact type, of a SOCI index manifest v1. */
  public static final String SOCI_INDEX_V1 = "application/vnd.amazon.soci.index.v1+json";

  /** The config media type, and so the artifact type, of a SOCI index manifest v2. */
  public static final String SOCI_INDEX_V2 = "application/vnd.amazon.soci.index.v2+json";

  /** The media type of a zTOC descriptor in a SOCI index. */
  public static final String SOCI_ZTOC = "application/octet-stream";

  /** The media type of a prefetch artifact descriptor in a SOCI index. */
  public static final String SOCI_PREFETCH = "application/vnd.amazon.soci.prefetch.v1+json";

  private static final String OCI_LAYER_PREFIX = "application/vnd.oci.image.layer.";

  /** containerd splits the suffixes with {@code strings.SplitN(ext, "+", 50)}. */
  private static final int MAX_SUFFIXES = 50;

  private MediaType() {}

  /**
   * Returns whether {@code mediaType} is a layer type: anything that starts with {@code
   * application/vnd.oci.image.layer.}, or a Docker layer type (diff.tar, diff.tar.gzip,
   * diff.tar.zstd, foreign.diff.tar, foreign.diff.tar.gzip) with any {@code +suffix} ignored.
   */
  public static boolean isLayer(String mediaType) {
    if (mediaType.startsWith(OCI_LAYER_PREFIX)) {
      return true;
    }
    switch (baseOf(mediaType)) {
      case DOCKER_LAYER_TAR:
      case DOCKER_LAYER_TAR_GZIP:
      case DOCKER_LAYER_TAR_ZSTD:
      case DOCKER_FOREIGN_LAYER_TAR:
      case DOCKER_FOREIGN_LAYER_TAR_GZIP:
        return true;
      default:
        return false;
    }
  }

  /** Returns whether {@code mediaType} is an OCI image manifest or a Docker v2 manifest. */
  public static boolean isManifest(String mediaType) {
    return mediaType.equals(OCI_MANIFEST) || mediaType.equals(DOCKER_MANIFEST);
  }

  /** Returns whether {@code mediaType} is an OCI image index or a Docker manifest list. */
  public static boolean isIndex(String mediaType) {
    return mediaType.equals(OCI_INDEX) || mediaType.equals(DOCKER_MANIFEST_LIST);
  }

  /**
   * Returns the compression of a layer with {@code mediaType}, as the SOCI reference implementation
   * decides it with containerd's rules.
   *
   * <table>
   *   <caption>Results</caption>
   *   <tr><th>media type</th><th>result</th></tr>
   *   <tr><td>OCI layer type (also non-distributable) whose last sorted suffix is {@code gzip}
   *       </td><td>{@link LayerCompression#GZIP}</td></tr>
   *   <tr><td>Docker {@code diff.tar.gzip}, {@code foreign.diff.tar.gzip}</td>
   *       <td>{@link LayerCompression#GZIP}</td></tr>
   *   <tr><td>exactly {@code application/vnd.oci.image.layer.v1.tar}</td>
   *       <td>{@link LayerCompression#UNCOMPRESSED}</td></tr>
   *   <tr><td>Docker {@code diff.tar}, {@code foreign.diff.tar}</td>
   *       <td>{@link LayerCompression#UNKNOWN}</td></tr>
   *   <tr><td>OCI layer type whose last sorted suffix is {@code zstd}, Docker {@code
   *       diff.tar.zstd}</td><td>{@link LayerCompression#ZSTD}</td></tr>
   *   <tr><td>Docker layer type with any suffix, other OCI tar layer types</td>
   *       <td>{@link LayerCompression#UNSUPPORTED}</td></tr>
   *   <tr><td>anything else</td><td>{@link LayerCompression#UNRECOGNISED}</td></tr>
   * </table>
   *
   * <p>Because the suffixes are sorted, {@code tar+gzip+encrypted} is classified as gzip although
   * the blob is encrypted, and a build over it fails when the bytes do not inflate.
   */
  public static LayerCompression layerCompression(String mediaType) {
    String base = baseOf(mediaType);
    List<String> suffixes = sortedSuffixesOf(mediaType);
    switch (base) {
      case DOCKER_LAYER_TAR:
      case DOCKER_FOREIGN_LAYER_TAR:
        return suffixes.isEmpty() ? LayerCompression.UNKNOWN : LayerCompression.UNSUPPORTED;
      case DOCKER_LAYER_TAR_GZIP:
      case DOCKER_FOREIGN_LAYER_TAR_GZIP:
        return suffixes.isEmpty() ? LayerCompression.GZIP : LayerCompression.UNSUPPORTED;
      case DOCKER_LAYER_TAR_ZSTD:
        return suffixes.isEmpty() ? LayerCompression.ZSTD : LayerCompression.UNSUPPORTED;
      case OCI_LAYER_TAR:
      case OCI_LAYER_NONDISTRIBUTABLE_TAR:
        return ociLayerCompression(mediaType, suffixes);
      default:
        return LayerCompression.UNRECOGNISED;
    }
  }

  private static LayerCompression ociLayerCompression(String mediaType, List<String> suffixes) {
    if (!suffixes.isEmpty()) {
      String last = suffixes.get(suffixes.size() - 1);
      if (last.equals("gzip")) {
        return LayerCompression.GZIP;
      }
      if (last.equals("zstd")) {
        return LayerCompression.ZSTD;
      }
    }

    // containerd reports "no compression" here; SOCI reads only the exact OCI tar type as plain
    // tar and skips every other such type.
    return mediaType.equals(OCI_LAYER_TAR)
        ? LayerCompression.UNCOMPRESSED
        : LayerCompression.UNSUPPORTED;
  }

  private static String baseOf(String mediaType) {
    int plus = mediaType.indexOf('+');
    return plus < 0 ? mediaType : mediaType.substring(0, plus);
  }

  private static List<String> sortedSuffixesOf(String mediaType) {
    int plus = mediaType.indexOf('+');
    List<String> suffixes = new ArrayList<>();
    if (plus < 0) {
      return suffixes;
    }

    int start = plus + 1;
    while (suffixes.size() < MAX_SUFFIXES - 1) {
      int next = mediaType.indexOf('+', start);
      if (next < 0) {
        break;
      }
      suffixes.add(mediaType.substring(start, next));
      start = next + 1;
    }
    suffixes.add(mediaType.substring(start));

    suffixes.sort(Utf8Order.COMPARATOR);
    return suffixes;
  }
}
