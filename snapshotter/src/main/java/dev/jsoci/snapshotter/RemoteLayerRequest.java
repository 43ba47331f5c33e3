package dev.jsoci.snapshotter;

import static dev.jsoci.snapshotter.SnapshotLabels.CRI_IMAGE_LAYERS;
import static dev.jsoci.snapshotter.SnapshotLabels.CRI_IMAGE_REF;
import static dev.jsoci.snapshotter.SnapshotLabels.CRI_LAYER_DIGEST;
import static dev.jsoci.snapshotter.SnapshotLabels.CRI_MANIFEST_DIGEST;
import static dev.jsoci.snapshotter.SnapshotLabels.IMAGE_LAYERS_SIZE;
import static dev.jsoci.snapshotter.SnapshotLabels.SOCI_INDEX_DIGEST;
import static dev.jsoci.snapshotter.SnapshotLabels.SOCI_SIZE;
import static dev.jsoci.snapshotter.SnapshotLabels.STARGZ_DIGEST;
import static dev.jsoci.snapshotter.SnapshotLabels.STARGZ_LAYERS;
import static dev.jsoci.snapshotter.SnapshotLabels.STARGZ_REFERENCE;

import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * One image layer to mount lazily, read from the labels of a {@code Prepare} call.
 *
 * <p>Three sets of labels describe a layer and all become this one request: CRI's ({@code
 * containerd.io/snapshot/cri.*}, also sent by nerdctl), the SOCI-aware clients' additions ({@code
 * containerd.io/snapshot/remote/soci.*} and {@code remote/image.layers.size}), and those of
 * stargz-snapshotter's {@code ctr-remote} ({@code containerd.io/snapshot/remote/stargz.*}). When
 * both CRI and stargz labels are present, the CRI ones win.
 *
 * @param namespace containerd namespace of the request
 * @param imageRef the image the layer belongs to
 * @param manifestDigest digest of the image manifest; stargz labels do not carry it
 * @param layerDigest compressed digest of the layer
 * @param layerSizeBytes compressed size of the layer, when a client sent it
 * @param sociIndexDigest the SOCI index to use, when a client chose one
 * @param imageLayerDigests this layer and those after it in the manifest (possibly truncated)
 * @param imageLayerSizes sizes of {@code imageLayerDigests}, possibly fewer of them
 * @param labels every label of the request, to keep on the committed snapshot
 */
public record RemoteLayerRequest(
    String namespace,
    ImageRef imageRef,
    Optional<Digest> manifestDigest,
    Digest layerDigest,
    OptionalLong layerSizeBytes,
    Optional<Digest> sociIndexDigest,
    List<Digest> imageLayerDigests,
    List<Long> imageLayerSizes,
    Map<String, String> labels) {

  public RemoteLayerRequest {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(imageRef, "imageRef");
    Objects.requireNonNull(manifestDigest, "manifestDigest");
    Objects.requireNonNull(layerDigest, "layerDigest");
    Objects.requireNonNull(layerSizeBytes, "layerSizeBytes");
    Objects.requireNonNull(sociIndexDigest, "sociIndexDigest");
    imageLayerDigests = List.copyOf(imageLayerDigests);
    imageLayerSizes = List.copyOf(imageLayerSizes);
    labels = Collections.unmodifiableMap(new TreeMap<>(labels));
  }

  /** Returns whether the labels name an image layer, in any of the three label sets. */
  static boolean describesLayer(Map<String, String> labels) {
    return labels.containsKey(CRI_IMAGE_REF) || labels.containsKey(STARGZ_REFERENCE);
  }

  /**
   * Reads a request from Prepare labels.
   *
   * @throws IllegalArgumentException naming the label that is missing or malformed
   */
  static RemoteLayerRequest fromLabels(String namespace, Map<String, String> labels) {
    boolean cri = labels.containsKey(CRI_IMAGE_REF);
    String imageRefLabel = cri ? CRI_IMAGE_REF : STARGZ_REFERENCE;
    String layerDigestLabel = cri ? CRI_LAYER_DIGEST : STARGZ_DIGEST;
    String layersLabel = cri ? CRI_IMAGE_LAYERS : STARGZ_LAYERS;

    ImageRef imageRef = ImageRef.parse(required(labels, imageRefLabel));
    Digest layerDigest = digest(labels, layerDigestLabel, required(labels, layerDigestLabel));
    Optional<Digest> manifestDigest =
        optional(labels, CRI_MANIFEST_DIGEST)
            .map(value -> digest(labels, CRI_MANIFEST_DIGEST, value));
    Optional<Digest> indexDigest =
        optional(labels, SOCI_INDEX_DIGEST).map(value -> digest(labels, SOCI_INDEX_DIGEST, value));
    OptionalLong size = OptionalLong.empty();
    Optional<String> sizeText = optional(labels, SOCI_SIZE);
    if (sizeText.isPresent()) {
      size = OptionalLong.of(size(SOCI_SIZE, sizeText.get()));
    }

    List<Digest> layerDigests = new ArrayList<>();
    for (String item : list(labels, layersLabel)) {
      layerDigests.add(digest(labels, layersLabel, item));
    }
    List<Long> layerSizes = new ArrayList<>();
    for (String item : list(labels, IMAGE_LAYERS_SIZE)) {
      layerSizes.add(size(IMAGE_LAYERS_SIZE, item));
    }
    return new RemoteLayerRequest(
        namespace,
        imageRef,
        manifestDigest,
        layerDigest,
        size,
        indexDigest,
        layerDigests,
        layerSizes,
        labels);
  }

  private static String required(Map<String, String> labels, String key) {
    String value = labels.get(key);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("missing label " + key);
    }
    return value;
  }

  private static Optional<String> optional(Map<String, String> labels, String key) {
    String value = labels.get(key);
    return value == null || value.isEmpty() ? Optional.empty() : Optional.of(value);
  }

  private static List<String> list(Map<String, String> labels, String key) {
    return optional(labels, key).map(value -> List.of(value.split(","))).orElse(List.of());
  }

  private static Digest digest(Map<String, String> labels, String key, String value) {
    try {
      return Digest.parse(value.trim());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid label " + key + ": " + e.getMessage(), e);
    }
  }

  private static long size(String key, String value) {
    try {
      long size = Long.parseLong(value.trim());
      if (size >= 0) {
        return size;
      }
    } catch (NumberFormatException e) {
      // Reported below with the label's name.
    }
    throw new IllegalArgumentException(
        "invalid label " + key + ": \"" + value + "\" is not a size in bytes");
  }
}
