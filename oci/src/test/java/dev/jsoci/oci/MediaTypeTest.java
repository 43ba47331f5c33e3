package dev.jsoci.oci;

import static com.google.common.truth.Truth.assertWithMessage;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MediaTypeTest {

  /** The layer-type filter cases of the SOCI reference's index tests. */
  @Test
  void isLayer_referenceFilterCases() {
    List<String> notLayers =
        List.of("", MediaType.OCI_MANIFEST, "application/octet-stream", MediaType.SOCI_PREFETCH);
    List<String> layers =
        List.of(
            "application/vnd.oci.image.layer.v1.tar",
            "application/vnd.docker.image.rootfs.diff.tar",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+zstd",
            "application/vnd.oci.image.layer.");

    for (String mediaType : notLayers) {
      assertWithMessage(mediaType).that(MediaType.isLayer(mediaType)).isFalse();
    }
    for (String mediaType : layers) {
      assertWithMessage(mediaType).that(MediaType.isLayer(mediaType)).isTrue();
    }
  }

  @Test
  void isLayer_dockerTypesWithSuffix() {
    List<String> layers =
        List.of(
            MediaType.DOCKER_LAYER_TAR_GZIP,
            MediaType.DOCKER_LAYER_TAR_ZSTD,
            MediaType.DOCKER_FOREIGN_LAYER_TAR,
            MediaType.DOCKER_FOREIGN_LAYER_TAR_GZIP,
            MediaType.DOCKER_LAYER_TAR + "+encrypted",
            MediaType.DOCKER_LAYER_TAR_GZIP + "+anything+else",
            MediaType.OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP);
    List<String> notLayers =
        List.of(
            "application/vnd.docker.image.rootfs.foreign.diff.tar.zstd",
            "application/vnd.docker.image.rootfs.diff",
            MediaType.DOCKER_MANIFEST,
            MediaType.DOCKER_CONFIG,
            "application/vnd.oci.image.layer");

    for (String mediaType : layers) {
      assertWithMessage(mediaType).that(MediaType.isLayer(mediaType)).isTrue();
    }
    for (String mediaType : notLayers) {
      assertWithMessage(mediaType).that(MediaType.isLayer(mediaType)).isFalse();
    }
  }

  /** Each row of the SOCI per-layer compression table, in order. */
  @Test
  void layerCompression_sociDecisionTable() {
    Map<String, LayerCompression> table = new LinkedHashMap<>();
    table.put("application/vnd.oci.image.layer.v1.tar+gzip", LayerCompression.GZIP);
    table.put(
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", LayerCompression.GZIP);
    table.put("application/vnd.docker.image.rootfs.diff.tar.gzip", LayerCompression.GZIP);
    table.put("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", LayerCompression.GZIP);
    table.put("application/vnd.oci.image.layer.v1.tar", LayerCompression.UNCOMPRESSED);
    table.put("application/vnd.docker.image.rootfs.diff.tar", LayerCompression.UNKNOWN);
    table.put("application/vnd.docker.image.rootfs.foreign.diff.tar", LayerCompression.UNKNOWN);
    table.put("application/vnd.oci.image.layer.v1.tar+zstd", LayerCompression.ZSTD);
    table.put(
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", LayerCompression.ZSTD);
    table.put("application/vnd.docker.image.rootfs.diff.tar.zstd", LayerCompression.ZSTD);
    table.put("application/vnd.docker.image.rootfs.diff.tar+gzip", LayerCompression.UNSUPPORTED);
    table.put(
        "application/vnd.docker.image.rootfs.diff.tar.gzip+encrypted",
        LayerCompression.UNSUPPORTED);
    table.put("application/vnd.docker.image.rootfs.diff.tar.zstd+x", LayerCompression.UNSUPPORTED);
    table.put(
        "application/vnd.docker.image.rootfs.foreign.diff.tar+x", LayerCompression.UNSUPPORTED);
    table.put("application/vnd.oci.image.layer.", LayerCompression.UNRECOGNISED);
    table.put("application/vnd.oci.image.layer.v1.tar+gzip+encrypted", LayerCompression.GZIP);

    for (Map.Entry<String, LayerCompression> row : table.entrySet()) {
      assertWithMessage(row.getKey())
          .that(MediaType.layerCompression(row.getKey()))
          .isEqualTo(row.getValue());
    }
  }

  /** Suffixes are sorted before the last one is taken, so their written order does not matter. */
  @Test
  void layerCompression_suffixesSortedLastDecides() {
    Map<String, LayerCompression> table = new LinkedHashMap<>();
    table.put(MediaType.OCI_LAYER_TAR + "+encrypted+gzip", LayerCompression.GZIP);
    table.put(MediaType.OCI_LAYER_TAR + "+gzip+zstd", LayerCompression.ZSTD);
    table.put(MediaType.OCI_LAYER_TAR + "+zstd+gzip", LayerCompression.ZSTD);
    table.put(MediaType.OCI_LAYER_TAR + "+zstd+encrypted", LayerCompression.ZSTD);
    table.put(MediaType.OCI_LAYER_TAR + "+gzip+zzz", LayerCompression.UNSUPPORTED);
    table.put(MediaType.OCI_LAYER_TAR + "+encrypted", LayerCompression.UNSUPPORTED);
    table.put(MediaType.OCI_LAYER_TAR + "+", LayerCompression.UNSUPPORTED);
    table.put(MediaType.OCI_LAYER_TAR + "+gzip+", LayerCompression.GZIP);
    table.put(MediaType.OCI_LAYER_NONDISTRIBUTABLE_TAR, LayerCompression.UNSUPPORTED);
    table.put("application/vnd.oci.image.layer.v1.tar.gzip", LayerCompression.UNRECOGNISED);
    table.put("application/vnd.oci.image.layer.v1.tar+GZIP", LayerCompression.UNSUPPORTED);

    for (Map.Entry<String, LayerCompression> row : table.entrySet()) {
      assertWithMessage(row.getKey())
          .that(MediaType.layerCompression(row.getKey()))
          .isEqualTo(row.getValue());
    }
  }

  /**
   * containerd splits at most 50 suffixes; the 50th keeps the rest, so a {@code gzip} past it is
   * not a suffix of its own.
   */
  @Test
  void layerCompression_moreThanFiftySuffixes_lastPieceKeepsRest() {
    String fortyNine = "+a".repeat(49);

    assertWithMessage("50 suffixes")
        .that(MediaType.layerCompression(MediaType.OCI_LAYER_TAR + fortyNine + "+gzip"))
        .isEqualTo(LayerCompression.GZIP);
    assertWithMessage("51 suffixes")
        .that(MediaType.layerCompression(MediaType.OCI_LAYER_TAR + fortyNine + "+b+gzip"))
        .isEqualTo(LayerCompression.UNSUPPORTED);
  }

  @Test
  void layerCompression_nonLayerTypes_unrecognised() {
    for (String mediaType :
        List.of("", MediaType.OCI_MANIFEST, MediaType.SOCI_ZTOC, MediaType.DOCKER_CONFIG)) {
      assertWithMessage(mediaType)
          .that(MediaType.layerCompression(mediaType))
          .isEqualTo(LayerCompression.UNRECOGNISED);
    }
  }

  @Test
  void indexable_onlyGzipAndTar() {
    assertWithMessage("GZIP").that(LayerCompression.GZIP.indexable()).isTrue();
    assertWithMessage("UNCOMPRESSED").that(LayerCompression.UNCOMPRESSED.indexable()).isTrue();
    assertWithMessage("UNKNOWN").that(LayerCompression.UNKNOWN.indexable()).isTrue();
    assertWithMessage("ZSTD").that(LayerCompression.ZSTD.indexable()).isFalse();
    assertWithMessage("UNSUPPORTED").that(LayerCompression.UNSUPPORTED.indexable()).isFalse();
    assertWithMessage("UNRECOGNISED").that(LayerCompression.UNRECOGNISED.indexable()).isFalse();
  }

  @Test
  void isManifestAndIsIndex_ociAndDockerTypes() {
    assertWithMessage("OCI manifest").that(MediaType.isManifest(MediaType.OCI_MANIFEST)).isTrue();
    assertWithMessage("Docker manifest")
        .that(MediaType.isManifest(MediaType.DOCKER_MANIFEST))
        .isTrue();
    assertWithMessage("OCI index as manifest")
        .that(MediaType.isManifest(MediaType.OCI_INDEX))
        .isFalse();
    assertWithMessage("OCI index").that(MediaType.isIndex(MediaType.OCI_INDEX)).isTrue();
    assertWithMessage("Docker list")
        .that(MediaType.isIndex(MediaType.DOCKER_MANIFEST_LIST))
        .isTrue();
    assertWithMessage("manifest as index")
        .that(MediaType.isIndex(MediaType.OCI_MANIFEST))
        .isFalse();
  }
}
