package dev.jsoci.snapshotter.lazy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.ResolvedImage;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.Platform;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The image manifests of the layers a daemon prepares, read from the registry once and shared by
 * the lazy mounts and the local unpacker.
 *
 * <p>Manifests are content-addressed, so they are kept in a small cache by digest. A reference
 * without a manifest digest (a tag, as {@code ctr-remote images rpull} sends it) stays resolved to
 * the manifest found for it for {@link #RESOLVED_IMAGE_EXPIRY}: containerd resolves a tag once per
 * pull and then prepares the image's layers within seconds, so resolving it for every layer would
 * cost one or two registry round trips each, and could find a newer manifest without the layer.
 * Safe for concurrent use.
 */
public final class ImageManifests {
  private static final int CACHED_MANIFESTS = 256;

  /** How long a reference stays resolved to the manifest found for it. */
  static final Duration RESOLVED_IMAGE_EXPIRY = Duration.ofSeconds(30);

  /**
   * The manifest of an image that contains a layer.
   *
   * @param layer the layer's descriptor in {@code manifest}
   */
  public record ManifestWithLayer(Digest digest, ImageManifest manifest, Descriptor layer) {}

  private final RegistryClient client;
  private final Platform platform;
  private final Cache<Digest, ImageManifest> manifests =
      Caffeine.newBuilder().maximumSize(CACHED_MANIFESTS).build();
  private final Cache<ImageRef, Digest> resolvedImages =
      Caffeine.newBuilder()
          .maximumSize(CACHED_MANIFESTS)
          .expireAfterWrite(RESOLVED_IMAGE_EXPIRY)
          .build();

  /**
   * @param platform the platform chosen when a reference names an image index
   */
  public ImageManifests(RegistryClient client, Platform platform) {
    this.client = client;
    this.platform = platform;
  }

  /**
   * Returns the manifest of {@code image} that contains {@code layerDigest}.
   *
   * <p>Without {@code manifestDigest}, the reference is resolved for the platform, or taken from an
   * earlier resolution within {@link #RESOLVED_IMAGE_EXPIRY}. When that earlier manifest does not
   * contain the layer, the tag may have moved, so the reference is resolved again.
   *
   * @param manifestDigest the image manifest, or null to resolve {@code image}
   * @throws IOException if a registry read fails, a manifest is invalid, or the manifest does not
   *     contain the layer (the message names the layer, the manifest and the image)
   */
  public ManifestWithLayer forLayer(
      ImageRef image, @Nullable Digest manifestDigest, Digest layerDigest) throws IOException {
    Digest digest = manifestDigest;
    if (digest == null) {
      digest = resolvedImages.getIfPresent(image);
      if (digest == null) {
        digest = resolve(image);
      } else if (findLayer(manifest(image, digest), layerDigest).isEmpty()) {
        digest = resolve(image);
      }
    }
    ImageManifest manifest = manifest(image, digest);
    Optional<Descriptor> layer = findLayer(manifest, layerDigest);
    if (layer.isEmpty()) {
      throw new IOException(
          "layer " + layerDigest + " is not in manifest " + digest + " of " + image);
    }
    return new ManifestWithLayer(digest, manifest, layer.get());
  }

  /** Returns the image manifest {@code digest} of {@code image}'s repository. */
  public ImageManifest manifest(ImageRef image, Digest digest) throws IOException {
    ImageManifest cached = manifests.getIfPresent(digest);
    if (cached != null) {
      return cached;
    }
    ImageManifest manifest = ImageManifest.parse(client.fetchManifest(image, digest).bytes());
    manifests.put(digest, manifest);
    return manifest;
  }

  /**
   * Resolves {@code image} for the platform and keeps the manifest it read, so that nothing fetches
   * it a second time by digest.
   */
  private Digest resolve(ImageRef image) throws IOException {
    ResolvedImage resolved = client.resolveImage(image, platform);
    Digest digest = resolved.manifest().descriptor().digest();
    manifests.put(digest, resolved.parsedManifest());
    resolvedImages.put(image, digest);
    return digest;
  }

  private static Optional<Descriptor> findLayer(ImageManifest manifest, Digest layerDigest) {
    for (Descriptor layer : manifest.layers()) {
      if (layer.digest().equals(layerDigest)) {
        return Optional.of(layer);
      }
    }
    return Optional.empty();
  }
}
