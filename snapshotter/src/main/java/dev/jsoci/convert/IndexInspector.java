package dev.jsoci.convert;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.LayerIndexDecision;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.OciFormatException;
import dev.jsoci.oci.Platform;
import dev.jsoci.oci.PrefetchArtifact;
import dev.jsoci.oci.SociAnnotations;
import dev.jsoci.oci.SociIndex;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Finds the SOCI index v2 of an image the way a snapshotter does, through the image manifest's
 * {@code com.amazon.soci.index-digest} annotation, and reports for each layer its zTOC or why it
 * has none.
 */
public final class IndexInspector {
  private IndexInspector() {}

  /**
   * The SOCI index of one image manifest, layer by layer.
   *
   * @param manifest the image manifest's descriptor
   * @param platform the platform of its entry in the image index, or null for a single manifest
   * @param sociIndex the SOCI index descriptor, or null when the image has none
   * @param index the parsed SOCI index, or null
   * @param layers one entry per layer of the manifest, in order
   */
  public record Report(
      Descriptor manifest,
      @Nullable Platform platform,
      @Nullable Descriptor sociIndex,
      @Nullable SociIndex index,
      List<LayerInfo> layers) {
    public Report {
      Objects.requireNonNull(manifest, "manifest");
      layers = List.copyOf(layers);
    }
  }

  /**
   * One layer and its zTOC.
   *
   * @param layer the layer descriptor from the image manifest
   * @param ztoc the zTOC descriptor from the SOCI index, or null
   * @param reason why there is no zTOC; empty when there is one
   * @param prefetch the prefetch artifact's descriptor from the SOCI index, or null
   * @param prefetchArtifact the prefetch artifact, or null
   */
  public record LayerInfo(
      Descriptor layer,
      @Nullable Descriptor ztoc,
      String reason,
      @Nullable Descriptor prefetch,
      @Nullable PrefetchArtifact prefetchArtifact) {
    public LayerInfo {
      Objects.requireNonNull(layer, "layer");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * Inspects the image {@code reference} of {@code store}; for an image index, the entry of {@code
   * platform}.
   *
   * @param minLayerSizeBytes the minimum layer size assumed to explain missing zTOCs, since an
   *     index does not record the one it was built with
   * @throws ConvertException when the index has no image for the platform
   */
  public static Report inspect(
      ImageStore store, String reference, Platform requested, long minLayerSizeBytes)
      throws IOException {
    String image = store.name() + ":" + reference;
    Descriptor top = store.resolve(reference);
    byte[] bytes = store.readManifest(top.digest());
    String mediaType =
        top.mediaType().isEmpty() ? ManifestDocuments.mediaTypeOf(bytes) : top.mediaType();

    Descriptor manifestDescriptor = Descriptor.of(mediaType, top.digest(), bytes.length);
    @Nullable Platform entryPlatform = null;
    if (MediaType.isIndex(mediaType)) {
      ImageIndex index = ImageIndex.parse(bytes);
      Descriptor entry =
          index.manifests().get(PlatformSelection.find(index.manifests(), requested, image, ""));
      manifestDescriptor = entry;
      entryPlatform = entry.platform();
      bytes = store.readManifest(entry.digest());
    }
    ImageManifest manifest = ImageManifest.parse(bytes);

    String link = manifest.annotations().get(SociAnnotations.INDEX_DIGEST);
    @Nullable Descriptor sociDescriptor = null;
    @Nullable SociIndex sociIndex = null;
    if (link != null) {
      Digest digest = parseLink(link, image);
      byte[] indexBytes = store.readManifest(digest);
      sociIndex = SociIndex.parse(indexBytes);
      sociDescriptor = Descriptor.of(MediaType.OCI_MANIFEST, digest, indexBytes.length);
    }

    List<LayerInfo> layers = new ArrayList<>();
    for (Descriptor layer : manifest.layers()) {
      layers.add(describe(store, layer, sociIndex, minLayerSizeBytes));
    }
    return new Report(manifestDescriptor, entryPlatform, sociDescriptor, sociIndex, layers);
  }

  private static LayerInfo describe(
      ImageStore store, Descriptor layer, @Nullable SociIndex index, long minLayerSizeBytes)
      throws IOException {
    if (index == null) {
      return new LayerInfo(layer, null, "no SOCI index for the image", null, null);
    }
    @Nullable Descriptor prefetch = index.prefetchFor(layer.digest()).orElse(null);
    @Nullable PrefetchArtifact artifact = prefetch == null ? null : readPrefetch(store, prefetch);
    Optional<Descriptor> ztoc = index.ztocFor(layer.digest());
    if (ztoc.isPresent()) {
      return new LayerInfo(layer, ztoc.get(), "", prefetch, artifact);
    }
    LayerIndexDecision decision = LayerIndexDecision.of(layer, minLayerSizeBytes);
    String reason = LayerPass.skipReason(decision, layer, minLayerSizeBytes);
    if (decision == LayerIndexDecision.SKIP_BELOW_MIN_SIZE) {
      // The index does not record why a layer has none, so the size is a guess from the option.
      reason +=
          ", the minimum assumed by --min-layer-size; a layer with sparse files gets no zTOC"
              + " either";
    }
    if (reason.isEmpty()) {
      reason = "the SOCI index has no zTOC for this layer";
    }
    return new LayerInfo(layer, null, reason, prefetch, artifact);
  }

  private static PrefetchArtifact readPrefetch(ImageStore store, Descriptor prefetch)
      throws IOException {
    String source = prefetch.digest().toString();
    PrefetchArtifact.checkSize(prefetch.size(), source);
    byte[] bytes;
    try (InputStream in = store.openBlob(prefetch)) {
      bytes = in.readNBytes((int) PrefetchArtifact.MAX_BYTES + 1);
    }
    if (bytes.length != prefetch.size() || !Digest.sha256Of(bytes).equals(prefetch.digest())) {
      throw new OciFormatException(
          "prefetch artifact "
              + source
              + ": read "
              + bytes.length
              + " bytes with another digest or size than the SOCI index gives ("
              + prefetch.size()
              + " bytes)");
    }
    try {
      return PrefetchArtifact.parse(bytes);
    } catch (OciFormatException e) {
      throw new OciFormatException("prefetch artifact " + source + ": " + e.getMessage(), e);
    }
  }

  private static Digest parseLink(String link, String image) throws OciFormatException {
    try {
      return Digest.parse(link);
    } catch (IllegalArgumentException e) {
      throw new OciFormatException(
          image + ": invalid " + SociAnnotations.INDEX_DIGEST + " annotation: " + e.getMessage());
    }
  }
}
