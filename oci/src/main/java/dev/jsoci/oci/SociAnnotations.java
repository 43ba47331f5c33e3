package dev.jsoci.oci;

/** Annotation keys that SOCI writes on descriptors, SOCI index manifests and image manifests. */
public final class SociAnnotations {

  /** On a zTOC or prefetch descriptor: the digest of the image layer it indexes. */
  public static final String IMAGE_LAYER_DIGEST = "com.amazon.soci.image-layer-digest";

  /** On a zTOC descriptor: the layer's media type, verbatim (note the capital {@code T}). */
  public static final String IMAGE_LAYER_MEDIA_TYPE = "com.amazon.soci.image-layer-mediaType";

  /** On a zTOC descriptor: the span size in uncompressed bytes, as a decimal string. */
  public static final String SPAN_SIZE = "com.amazon.soci.span-size";

  /**
   * On a zTOC descriptor: {@code true} when no file of the layer has extended attributes, so the
   * snapshotter may skip xattr lookups.
   */
  public static final String DISABLE_XATTRS = "com.amazon.soci.disable-xattrs";

  /** On a SOCI index manifest: the tool that built it. */
  public static final String BUILD_TOOL_IDENTIFIER = "com.amazon.soci.build-tool-identifier";

  /** On an image manifest and its image-index entry: the digest of its SOCI index v2. */
  public static final String INDEX_DIGEST = "com.amazon.soci.index-digest";

  /** On a SOCI index v2 entry of an image index: the digest of the image manifest it indexes. */
  public static final String IMAGE_MANIFEST_DIGEST = "com.amazon.soci.image-manifest-digest";

  private SociAnnotations() {}
}
