package dev.jsoci.fetcher.registry;

import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.ImageRef;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An image reference resolved to the image manifest for one platform.
 *
 * @param reference the reference that was resolved
 * @param index the image index the reference named, or null when it named a manifest directly
 * @param parsedIndex {@code index} parsed, or null
 * @param manifest the chosen image manifest
 * @param parsedManifest {@code manifest} parsed
 */
public record ResolvedImage(
    ImageRef reference,
    @Nullable ManifestContent index,
    @Nullable ImageIndex parsedIndex,
    ManifestContent manifest,
    ImageManifest parsedManifest) {
  public ResolvedImage {
    Objects.requireNonNull(reference, "reference");
    Objects.requireNonNull(manifest, "manifest");
    Objects.requireNonNull(parsedManifest, "parsedManifest");
    if ((index == null) != (parsedIndex == null)) {
      throw new IllegalArgumentException("index and parsedIndex must both be set or both be null");
    }
  }
}
