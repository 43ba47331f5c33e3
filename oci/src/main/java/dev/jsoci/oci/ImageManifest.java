package dev.jsoci.oci;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An OCI image-spec v1.1 image manifest ({@code schemaVersion} 2), also used for Docker v2
 * manifests, which have the same members.
 *
 * @param mediaType the top-level {@code mediaType}; may be empty, and is then omitted from JSON
 * @param artifactType may be empty, and is then omitted from JSON
 * @param config the config descriptor
 * @param layers the layer descriptors, in order from the base layer up
 * @param subject the manifest this one refers to, or null
 * @param annotations iterated in UTF-8 byte order of the keys
 */
public record ImageManifest(
    String mediaType,
    String artifactType,
    Descriptor config,
    List<Descriptor> layers,
    @Nullable Descriptor subject,
    Map<String, String> annotations) {

  /** The only {@code schemaVersion} of OCI manifests and Docker v2 manifests. */
  public static final int SCHEMA_VERSION = 2;

  public ImageManifest {
    Objects.requireNonNull(mediaType, "mediaType");
    Objects.requireNonNull(artifactType, "artifactType");
    Objects.requireNonNull(config, "config");
    layers = List.copyOf(layers);
    annotations = Utf8Order.sortedCopy(annotations);
  }

  /**
   * Parses an image manifest from its JSON bytes the way Go's {@code encoding/json} reads the OCI
   * {@code Manifest} type: unknown members are dropped, member names match case-insensitively and
   * invalid UTF-8 becomes U+FFFD. Unlike Go, it also requires {@code schemaVersion} 2, a config,
   * and a valid digest and non-negative size in every descriptor. The media type is not checked.
   *
   * @throws OciFormatException naming the member and value that are invalid
   */
  public static ImageManifest parse(byte[] json) throws OciFormatException {
    return OciJson.readManifest(json);
  }

  /**
   * Returns the JSON bytes Go's {@code encoding/json} writes for this manifest: compact, no
   * trailing newline, members in the order of the Go type.
   *
   * <p>NOTE: empty {@code layers} are written as {@code []}. Go writes {@code null} when the parsed
   * JSON had no {@code layers} member or {@code "layers":null}.
   */
  public byte[] toBytes() {
    return OciJson.writeManifest(this);
  }

  /** Returns {@link #toBytes()} as a string. */
  public String toJson() {
    return new String(toBytes(), StandardCharsets.UTF_8);
  }
}
