package dev.jsoci.oci;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A SOCI index: an OCI image manifest whose config media type names the index version and whose
 * {@code layers} list the zTOCs of an image's layers, followed by optional prefetch artifacts.
 *
 * <p>The JSON form, in member order:
 *
 * <ol>
 *   <li>{@code schemaVersion}: 2;
 *   <li>{@code mediaType}: always {@code application/vnd.oci.image.manifest.v1+json};
 *   <li>{@code config}: the 2-byte blob {@code {}} ({@link #EMPTY_JSON_DIGEST}) with the media type
 *       {@code application/vnd.amazon.soci.index.v1+json} or {@code ...v2+json};
 *   <li>{@code layers}: zTOC descriptors ({@code application/octet-stream}) in image layer order,
 *       then prefetch descriptors;
 *   <li>{@code subject}: v1 only, the image manifest the index was built for;
 *   <li>{@code annotations}: {@code com.amazon.soci.build-tool-identifier}.
 * </ol>
 *
 * There is no top-level {@code artifactType}. The SOCI reference snapshotter stores a fetched index
 * after re-serialising it with Go's {@code encoding/json} under the digest and size it fetched, so
 * an index works with it only when its bytes are what Go writes; {@link #toBytes()} writes exactly
 * those bytes.
 *
 * @param version the index version, identified by the config media type
 * @param manifest the manifest as written: top-level media type forced to the OCI manifest type and
 *     no artifact type
 */
public record SociIndex(Version version, ImageManifest manifest) {

  /** The digest of the 2-byte config blob {@code {}}. */
  public static final Digest EMPTY_JSON_DIGEST =
      Digest.parse("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");

  /** The size of the config blob {@code {}}. */
  public static final long EMPTY_JSON_SIZE = 2;

  /**
   * The build tool identifier of the SOCI reference implementation. Indexes built with another
   * identifier work the same but have other digests than the reference's.
   */
  public static final String DEFAULT_BUILD_TOOL_IDENTIFIER = "AWS SOCI CLI v0.2";

  /** The SOCI index version. Only the config media type distinguishes the versions. */
  public enum Version {
    /** Has a {@code subject} and is found through the referrers API of that image manifest. */
    V1(MediaType.SOCI_INDEX_V1),
    /** Linked from the image manifest's {@code com.amazon.soci.index-digest} annotation. */
    V2(MediaType.SOCI_INDEX_V2);

    private final String artifactType;

    Version(String artifactType) {
      this.artifactType = artifactType;
    }

    /** Returns the config media type, which registries also report as the artifact type. */
    public String artifactType() {
      return artifactType;
    }

    /** Returns the version whose artifact type is {@code mediaType}, or empty if none. */
    public static Optional<Version> fromArtifactType(String mediaType) {
      for (Version version : values()) {
        if (version.artifactType.equals(mediaType)) {
          return Optional.of(version);
        }
      }
      return Optional.empty();
    }
  }

  /**
   * Forces the manifest's top-level media type to the OCI manifest type and drops its artifact
   * type, as the SOCI reference implementation writes every index.
   *
   * @throws IllegalArgumentException when the config media type is not {@code version}'s
   */
  public SociIndex {
    Objects.requireNonNull(version, "version");
    String configMediaType = manifest.config().mediaType();
    if (!configMediaType.equals(version.artifactType())) {
      throw new IllegalArgumentException(
          "config.mediaType of a SOCI index "
              + version
              + " must be "
              + version.artifactType()
              + ", found \""
              + configMediaType
              + "\"");
    }
    manifest =
        new ImageManifest(
            MediaType.OCI_MANIFEST,
            "",
            manifest.config(),
            manifest.layers(),
            manifest.subject(),
            manifest.annotations());
  }

  /**
   * Parses a SOCI index from its JSON bytes. See {@link ImageManifest#parse(byte[])} for the rules
   * and {@link #fromManifest(ImageManifest)} for the checks.
   *
   * @throws OciFormatException when the JSON is not a valid manifest or not a SOCI index
   */
  public static SociIndex parse(byte[] json) throws OciFormatException {
    return fromManifest(ImageManifest.parse(json));
  }

  /**
   * Reads a manifest as a SOCI index the way the SOCI reference snapshotter does: the config media
   * type must be a known index version, and neither the top-level media type nor the presence of
   * {@code subject} is checked.
   *
   * @throws OciFormatException when the config media type is not a SOCI index version
   */
  public static SociIndex fromManifest(ImageManifest manifest) throws OciFormatException {
    String configMediaType = manifest.config().mediaType();
    Optional<Version> version = Version.fromArtifactType(configMediaType);
    if (version.isEmpty()) {
      throw new OciFormatException(
          "unknown SOCI index version: config.mediaType \""
              + configMediaType
              + "\", expected "
              + MediaType.SOCI_INDEX_V1
              + " or "
              + MediaType.SOCI_INDEX_V2);
    }
    return new SociIndex(version.get(), manifest);
  }

  /**
   * Creates an index from its parts, without checking their media types, as the SOCI reference's
   * {@code NewIndex} does. Prefer {@link #builder(Version)}.
   *
   * @param layers zTOC descriptors then prefetch descriptors
   * @param subject the image manifest descriptor; required for v1 and not allowed for v2
   * @throws IllegalArgumentException when {@code subject} does not fit the version
   */
  public static SociIndex of(
      Version version,
      List<Descriptor> layers,
      @Nullable Descriptor subject,
      Map<String, String> annotations) {
    if (version == Version.V1 && subject == null) {
      throw new IllegalArgumentException("a SOCI index v1 requires a subject");
    }
    if (version == Version.V2 && subject != null) {
      throw new IllegalArgumentException("a SOCI index v2 has no subject, found " + subject);
    }
    ImageManifest manifest =
        new ImageManifest(
            MediaType.OCI_MANIFEST, "", configDescriptor(version), layers, subject, annotations);
    return new SociIndex(version, manifest);
  }

  public static Builder builder(Version version) {
    return new Builder(version);
  }

  /** Returns the config descriptor of an index: the {@code {}} blob typed with the version. */
  public static Descriptor configDescriptor(Version version) {
    return Descriptor.of(version.artifactType(), EMPTY_JSON_DIGEST, EMPTY_JSON_SIZE);
  }

  /**
   * Returns the descriptor of a zTOC for {@code layer}, with the annotations the SOCI reference
   * writes: the layer digest, the layer media type verbatim, the span size in decimal and, when
   * {@code disableXattrs} is set, {@code com.amazon.soci.disable-xattrs: true}.
   *
   * @param ztocDigest the digest of the zTOC flatbuffer bytes
   * @param ztocSizeBytes the length of the zTOC flatbuffer bytes
   * @param layer the image layer's descriptor from the image manifest
   * @param spanSizeBytes the span size the zTOC was built with, in uncompressed bytes
   * @param disableXattrs whether no file of the layer has extended attributes
   */
  public static Descriptor ztocDescriptor(
      Digest ztocDigest,
      long ztocSizeBytes,
      Descriptor layer,
      long spanSizeBytes,
      boolean disableXattrs) {
    Map<String, String> annotations = new HashMap<>();
    annotations.put(SociAnnotations.IMAGE_LAYER_DIGEST, layer.digest().toString());
    annotations.put(SociAnnotations.IMAGE_LAYER_MEDIA_TYPE, layer.mediaType());
    annotations.put(SociAnnotations.SPAN_SIZE, Long.toString(spanSizeBytes));
    if (disableXattrs) {
      annotations.put(SociAnnotations.DISABLE_XATTRS, "true");
    }
    return Descriptor.builder(MediaType.SOCI_ZTOC, ztocDigest, ztocSizeBytes)
        .annotations(annotations)
        .build();
  }

  /**
   * Returns the descriptor of a prefetch artifact for the layer {@code layerDigest}.
   *
   * @param prefetchDigest the digest of the prefetch JSON bytes
   * @param prefetchSizeBytes the length of the prefetch JSON bytes
   */
  public static Descriptor prefetchDescriptor(
      Digest prefetchDigest, long prefetchSizeBytes, Digest layerDigest) {
    return Descriptor.builder(MediaType.SOCI_PREFETCH, prefetchDigest, prefetchSizeBytes)
        .annotations(Map.of(SociAnnotations.IMAGE_LAYER_DIGEST, layerDigest.toString()))
        .build();
  }

  /**
   * Returns whether a zTOC descriptor marks its layer as free of extended attributes. The
   * annotation is read like Go's {@code strconv.ParseBool}: {@code 1 t T TRUE true True} are true,
   * anything else is false.
   */
  public static boolean xattrsDisabled(Descriptor ztoc) {
    String value = ztoc.annotation(SociAnnotations.DISABLE_XATTRS);
    if (value == null) {
      return false;
    }
    switch (value) {
      case "1":
      case "t":
      case "T":
      case "TRUE":
      case "true":
      case "True":
        return true;
      default:
        return false;
    }
  }

  /** Returns the zTOC descriptors: the layers with media type {@code application/octet-stream}. */
  public List<Descriptor> ztocs() {
    return layersOfType(MediaType.SOCI_ZTOC);
  }

  /** Returns the prefetch descriptors, in the order of {@code layers}. */
  public List<Descriptor> prefetches() {
    return layersOfType(MediaType.SOCI_PREFETCH);
  }

  /** Returns the image manifest a v1 index was built for, or null. */
  public @Nullable Descriptor subject() {
    return manifest.subject();
  }

  public Map<String, String> annotations() {
    return manifest.annotations();
  }

  /**
   * Returns the zTOC for the image layer {@code layerDigest}. When several zTOCs name the same
   * layer, the last one wins, as in the SOCI reference snapshotter.
   */
  public Optional<Descriptor> ztocFor(Digest layerDigest) {
    @Nullable Descriptor found = null;
    for (Descriptor ztoc : ztocs()) {
      if (layerDigest.toString().equals(ztoc.annotation(SociAnnotations.IMAGE_LAYER_DIGEST))) {
        found = ztoc;
      }
    }
    return Optional.ofNullable(found);
  }

  /**
   * Returns the prefetch artifact for the image layer {@code layerDigest}. When several name the
   * same layer, the first one wins, as in the SOCI reference snapshotter.
   */
  public Optional<Descriptor> prefetchFor(Digest layerDigest) {
    for (Descriptor prefetch : prefetches()) {
      if (layerDigest.toString().equals(prefetch.annotation(SociAnnotations.IMAGE_LAYER_DIGEST))) {
        return Optional.of(prefetch);
      }
    }
    return Optional.empty();
  }

  /** Returns the JSON bytes Go's {@code encoding/json} writes for this index. */
  public byte[] toBytes() {
    return manifest.toBytes();
  }

  /** Returns {@link #toBytes()} as a string. */
  public String toJson() {
    return new String(toBytes(), StandardCharsets.UTF_8);
  }

  private List<Descriptor> layersOfType(String mediaType) {
    List<Descriptor> matching = new ArrayList<>();
    for (Descriptor layer : manifest.layers()) {
      if (layer.mediaType().equals(mediaType)) {
        matching.add(layer);
      }
    }
    return List.copyOf(matching);
  }

  /**
   * Builds a SOCI index the way the SOCI reference does: zTOC descriptors in the order added, then
   * prefetch descriptors in the order added, and the build tool identifier as the only annotation.
   * Add zTOCs in the order of the image manifest's layers.
   */
  public static final class Builder {
    private final Version version;
    private final List<Descriptor> ztocs = new ArrayList<>();
    private final List<Descriptor> prefetches = new ArrayList<>();
    private @Nullable Descriptor subject;
    private String buildToolIdentifier = DEFAULT_BUILD_TOOL_IDENTIFIER;

    private Builder(Version version) {
      this.version = Objects.requireNonNull(version, "version");
    }

    /**
     * Adds a zTOC descriptor, usually from {@link SociIndex#ztocDescriptor}.
     *
     * @throws IllegalArgumentException when its media type is not {@code application/octet-stream}
     *     or it has no {@code com.amazon.soci.image-layer-digest} annotation
     */
    public Builder addZtoc(Descriptor ztoc) {
      requireLayerDescriptor(ztoc, MediaType.SOCI_ZTOC);
      ztocs.add(ztoc);
      return this;
    }

    /**
     * Adds a prefetch descriptor, usually from {@link SociIndex#prefetchDescriptor}.
     *
     * @throws IllegalArgumentException when its media type is not the prefetch type or it has no
     *     {@code com.amazon.soci.image-layer-digest} annotation
     */
    public Builder addPrefetch(Descriptor prefetch) {
      requireLayerDescriptor(prefetch, MediaType.SOCI_PREFETCH);
      prefetches.add(prefetch);
      return this;
    }

    /**
     * Sets the image manifest a v1 index refers to. Only its media type, digest and size are kept,
     * as the SOCI reference writes them.
     *
     * @throws IllegalStateException for a v2 index, which has no subject
     */
    public Builder subject(Descriptor imageManifest) {
      if (version == Version.V2) {
        throw new IllegalStateException("a SOCI index v2 has no subject");
      }
      this.subject =
          Descriptor.of(imageManifest.mediaType(), imageManifest.digest(), imageManifest.size());
      return this;
    }

    /** Sets the {@code com.amazon.soci.build-tool-identifier} annotation. */
    public Builder buildToolIdentifier(String buildToolIdentifier) {
      this.buildToolIdentifier = Objects.requireNonNull(buildToolIdentifier);
      return this;
    }

    /**
     * Returns the index.
     *
     * @throws IllegalStateException when there is neither a zTOC nor a prefetch descriptor, or a v1
     *     index has no subject
     */
    public SociIndex build() {
      if (ztocs.isEmpty() && prefetches.isEmpty()) {
        throw new IllegalStateException(
            "a SOCI index needs at least one zTOC or prefetch descriptor");
      }
      if (version == Version.V1 && subject == null) {
        throw new IllegalStateException("a SOCI index v1 requires a subject");
      }
      List<Descriptor> layers = new ArrayList<>(ztocs);
      layers.addAll(prefetches);
      return of(
          version,
          layers,
          subject,
          Map.of(SociAnnotations.BUILD_TOOL_IDENTIFIER, buildToolIdentifier));
    }

    private static void requireLayerDescriptor(Descriptor descriptor, String mediaType) {
      if (!descriptor.mediaType().equals(mediaType)) {
        throw new IllegalArgumentException(
            "expected media type "
                + mediaType
                + ", found \""
                + descriptor.mediaType()
                + "\" in "
                + descriptor);
      }
      if (descriptor.annotation(SociAnnotations.IMAGE_LAYER_DIGEST) == null) {
        throw new IllegalArgumentException(
            "missing annotation " + SociAnnotations.IMAGE_LAYER_DIGEST + " in " + descriptor);
      }
    }
  }
}
