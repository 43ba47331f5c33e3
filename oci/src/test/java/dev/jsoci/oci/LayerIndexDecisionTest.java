package dev.jsoci.oci;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LayerIndexDecisionTest {
  private static final Digest LAYER_DIGEST =
      Digest.parse("sha256:b4ceb60a56d630e7543007ffc06b3964eed496198b553640f943249f75b242be");

  private static Descriptor layer(String mediaType, long size) {
    return Descriptor.of(mediaType, LAYER_DIGEST, size);
  }

  /** The minimum layer size cases of the SOCI reference's index tests. */
  @Test
  void of_referenceMinLayerSizeCases() {
    assertThat(LayerIndexDecision.of(layer(MediaType.OCI_LAYER_TAR_GZIP, 5223), 65535))
        .isEqualTo(LayerIndexDecision.SKIP_BELOW_MIN_SIZE);
    assertThat(LayerIndexDecision.of(layer(MediaType.OCI_LAYER_TAR_GZIP, 65535), 65535))
        .isEqualTo(LayerIndexDecision.BUILD_GZIP);
    assertThat(LayerIndexDecision.of(layer(MediaType.OCI_LAYER_TAR_GZIP, 5000), 500))
        .isEqualTo(LayerIndexDecision.BUILD_GZIP);
  }

  @Test
  void of_defaultMinimumIsTenMebibytes() {
    assertThat(LayerIndexDecision.DEFAULT_MIN_LAYER_SIZE_BYTES).isEqualTo(10_485_760L);
    assertThat(
            LayerIndexDecision.of(
                layer(MediaType.DOCKER_LAYER_TAR_GZIP, 10_485_759L),
                LayerIndexDecision.DEFAULT_MIN_LAYER_SIZE_BYTES))
        .isEqualTo(LayerIndexDecision.SKIP_BELOW_MIN_SIZE);
  }

  @Test
  void of_prefetchArtifact_ignoredBeforeOtherChecks() {
    assertThat(LayerIndexDecision.of(layer(MediaType.SOCI_PREFETCH, 0), 100))
        .isEqualTo(LayerIndexDecision.IGNORE_PREFETCH);
  }

  /** The layer type is checked before the size, so a small non-layer still fails the build. */
  @Test
  void of_notALayer_failsEvenWhenSmall() {
    assertThat(LayerIndexDecision.of(layer(MediaType.OCI_MANIFEST, 1), 100))
        .isEqualTo(LayerIndexDecision.FAIL_NOT_A_LAYER);
    assertThat(LayerIndexDecision.of(layer("", 1000), 0))
        .isEqualTo(LayerIndexDecision.FAIL_NOT_A_LAYER);
  }

  /** The size is checked before the compression, so a small zstd layer is skipped for its size. */
  @Test
  void of_smallZstdLayer_skippedForSize() {
    assertThat(LayerIndexDecision.of(layer(MediaType.OCI_LAYER_TAR_ZSTD, 1), 100))
        .isEqualTo(LayerIndexDecision.SKIP_BELOW_MIN_SIZE);
  }

  @Test
  void of_compressionDecides() {
    assertThat(LayerIndexDecision.of(layer(MediaType.OCI_LAYER_TAR, 1), 0))
        .isEqualTo(LayerIndexDecision.BUILD_TAR);
    assertThat(LayerIndexDecision.of(layer(MediaType.DOCKER_LAYER_TAR, 1), 0))
        .isEqualTo(LayerIndexDecision.BUILD_TAR);
    assertThat(LayerIndexDecision.of(layer(MediaType.DOCKER_LAYER_TAR_ZSTD, 1), 0))
        .isEqualTo(LayerIndexDecision.SKIP_UNSUPPORTED_COMPRESSION);
    assertThat(LayerIndexDecision.of(layer(MediaType.DOCKER_LAYER_TAR + "+x", 1), 0))
        .isEqualTo(LayerIndexDecision.SKIP_UNSUPPORTED_COMPRESSION);
    assertThat(LayerIndexDecision.of(layer("application/vnd.oci.image.layer.", 1), 0))
        .isEqualTo(LayerIndexDecision.FAIL_UNRECOGNISED_TYPE);
    assertThat(
            LayerIndexDecision.of(
                layer("application/vnd.oci.image.layer.v1.tar+gzip+encrypted", 1), 0))
        .isEqualTo(LayerIndexDecision.BUILD_GZIP);
  }

  @Test
  void of_negativeMinimum_rejected() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LayerIndexDecision.of(layer(MediaType.OCI_LAYER_TAR_GZIP, 1), -1));

    assertThat(e).hasMessageThat().isEqualTo("minLayerSizeBytes must not be negative, found -1");
  }
}
