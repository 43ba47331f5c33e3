package dev.jsoci.convert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.OciFormatException;
import dev.jsoci.oci.Platform;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Reads the few members of manifests and image configs that the records of the oci module lack. */
final class ManifestDocuments {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private ManifestDocuments() {}

  /**
   * Returns the media type of a manifest or image index from its JSON: the {@code mediaType}
   * member, or, when it is missing, the OCI index type for a document with {@code manifests} and
   * the OCI manifest type for one with {@code config}.
   *
   * @throws OciFormatException when the bytes are not a JSON object or have none of these members
   */
  static String mediaTypeOf(byte[] json) throws OciFormatException {
    JsonNode root = parseObject(json, "manifest");
    JsonNode mediaType = root.get("mediaType");
    if (mediaType != null && mediaType.isTextual() && !mediaType.asText().isEmpty()) {
      return mediaType.asText();
    }
    if (root.has("manifests")) {
      return MediaType.OCI_INDEX;
    }
    if (root.has("config")) {
      return MediaType.OCI_MANIFEST;
    }
    throw new OciFormatException(
        "not a manifest or image index: no mediaType, manifests or config member");
  }

  /**
   * Returns the platform an image config describes ({@code os}, {@code architecture}, {@code
   * variant}, {@code os.version}, {@code os.features}), normalised as containerd compares
   * platforms.
   *
   * @throws OciFormatException when the config is not a JSON object or lacks {@code os} or {@code
   *     architecture}
   */
  static Platform platformOfConfig(byte[] json) throws OciFormatException {
    JsonNode root = parseObject(json, "image config");
    String os = text(root, "os");
    String architecture = text(root, "architecture");
    if (os.isEmpty() || architecture.isEmpty()) {
      throw new OciFormatException(
          "image config lacks os or architecture, found os \""
              + os
              + "\" and architecture \""
              + architecture
              + "\"");
    }
    List<String> features = new ArrayList<>();
    JsonNode featureNode = root.get("os.features");
    if (featureNode != null && featureNode.isArray()) {
      for (JsonNode feature : featureNode) {
        features.add(feature.asText());
      }
    }
    return new Platform(os, architecture, text(root, "variant"), text(root, "os.version"), features)
        .normalize();
  }

  /**
   * Returns the {@code rootfs.diff_ids} of an image config, one per layer in layer order.
   *
   * @throws OciFormatException when the config is not a JSON object, lacks the array or lists a
   *     value that is not a digest
   */
  static List<Digest> diffIdsOfConfig(byte[] json) throws OciFormatException {
    JsonNode ids = parseObject(json, "image config").path("rootfs").path("diff_ids");
    if (!ids.isArray()) {
      throw new OciFormatException("image config lacks the rootfs.diff_ids array");
    }
    List<Digest> digests = new ArrayList<>();
    for (JsonNode id : ids) {
      try {
        digests.add(Digest.parse(id.asText()));
      } catch (IllegalArgumentException e) {
        throw new OciFormatException("image config rootfs.diff_ids: " + e.getMessage(), e);
      }
    }
    return digests;
  }

  private static String text(JsonNode root, String member) {
    JsonNode node = root.get(member);
    return node != null && node.isTextual() ? node.asText() : "";
  }

  private static JsonNode parseObject(byte[] json, String kind) throws OciFormatException {
    JsonNode root;
    try {
      root = MAPPER.readTree(json);
    } catch (IOException e) {
      throw new OciFormatException("invalid " + kind + " JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new OciFormatException("invalid " + kind + " JSON: expected an object");
    }
    return root;
  }
}
