package dev.jsoci.oci;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An OCI image-spec v1.1 image index ({@code schemaVersion} 2), also used for Docker manifest
 * lists, which have the same members.
 *
 * @param mediaType the top-level {@code mediaType}; may be empty, and is then omitted from JSON
 * @param artifactType may be empty, and is then omitted from JSON
 * @param manifests the manifest descriptors, in the order of the JSON
 * @param subject the manifest this index refers to, or null
 * @param annotations iterated in UTF-8 byte order of the keys
 */
public record ImageIndex(
    String mediaType,
    String artifactType,
    List<Descriptor> manifests,
    @Nullable Descriptor subject,
    Map<String, String> annotations) {

  /** The only {@code schemaVersion} of OCI image indexes and Docker manifest lists. */
  public static final int SCHEMA_VERSION = 2;

  public ImageIndex {
    Objects.requireNonNull(mediaType, "mediaType");
    Objects.requireNonNull(artifactType, "artifactType");
    manifests = List.copyOf(manifests);
    annotations = Utf8Order.sortedCopy(annotations);
  }

  /**
   * Parses an image index or a Docker manifest list from its JSON bytes the way Go's {@code
   * encoding/json} reads the OCI {@code Index} type: unknown members are dropped, member names
   * match case-insensitively and invalid UTF-8 becomes U+FFFD. Unlike Go, it also requires {@code
   * schemaVersion} 2 and a valid digest and non-negative size in every descriptor. The media type
   * is not checked.
   *
   * @throws OciFormatException naming the member and value that are invalid
   */
  public static ImageIndex parse(byte[] json) throws OciFormatException {
    return OciJson.readIndex(json);
  }

  /**
   * Returns the JSON bytes Go's {@code encoding/json} writes for this index: compact, no trailing
   * newline, members in the order of the Go type.
   *
   * <p>NOTE: empty {@code manifests} are written as {@code []}. Go writes {@code null} when the
   * parsed JSON had no {@code manifests} member or {@code "manifests":null}.
   */
  public byte[] toBytes() {
    return OciJson.writeIndex(this);
  }

  /** Returns {@link #toBytes()} as a string. */
  public String toJson() {
    return new String(toBytes(), StandardCharsets.UTF_8);
  }
}
