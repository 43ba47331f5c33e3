package dev.jsoci.snapshotter;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fs.LowerDirectories;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.snapshotter.lazy.ImageManifests;
import dev.jsoci.snapshotter.unpack.LayerDownloader;
import dev.jsoci.snapshotter.unpack.LayerUnpacker;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unpacks a layer in the daemon: takes the image manifest from {@link ImageManifests} (which the
 * lazy mounts of the same pull have usually read already) and reads the image config for the
 * layer's {@code diff_id}, then downloads, checks and unpacks the layer with a {@link
 * LayerDownloader}. Safe for concurrent use.
 */
final class RegistryLayerUnpacker implements LocalLayerUnpacker {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryLayerUnpacker.class);
  private static final int CACHED_IMAGES = 256;

  private final RegistryClient client;
  private final LayerDownloader downloader;
  private final ImageManifests manifests;

  /** The diff_ids of image configs, by the digest of the manifest that names the config. */
  private final Cache<Digest, List<Digest>> diffIds =
      Caffeine.newBuilder().maximumSize(CACHED_IMAGES).build();

  RegistryLayerUnpacker(RegistryClient client, LayerUnpacker unpacker, ImageManifests manifests) {
    this.client = client;
    this.downloader = new LayerDownloader(client, unpacker);
    this.manifests = manifests;
  }

  @Override
  public void unpack(
      RemoteLayerRequest request, Path directory, Path temporaryFile, List<Path> lowerDirectories)
      throws IOException {
    ImageRef image = request.imageRef();
    ImageManifests.ManifestWithLayer found =
        manifests.forLayer(image, request.manifestDigest().orElse(null), request.layerDigest());
    List<Descriptor> layers = found.manifest().layers();
    List<Digest> imageDiffIds = diffIds(image, found);
    if (imageDiffIds.size() != layers.size()) {
      throw new IOException(
          "the config of manifest "
              + found.digest()
              + " of "
              + image
              + " has "
              + imageDiffIds.size()
              + " diff_ids for "
              + layers.size()
              + " layers");
    }

    LayerUnpacker.Summary summary =
        downloader.unpack(
            image,
            found.layer(),
            imageDiffIds.get(layers.indexOf(found.layer())),
            directory,
            temporaryFile,
            new LowerDirectories(lowerDirectories));
    if (summary.skipped() > 0) {
      LOG.atWarn()
          .addKeyValue("layer", request.layerDigest().toString())
          .addKeyValue("count", summary.skipped())
          .log("skipped devices, fifos or xattrs that need root");
    }
  }

  private List<Digest> diffIds(ImageRef image, ImageManifests.ManifestWithLayer found)
      throws IOException {
    List<Digest> cached = diffIds.getIfPresent(found.digest());
    if (cached != null) {
      return cached;
    }
    List<Digest> read = LayerDownloader.diffIds(client, image, found.manifest().config());
    diffIds.put(found.digest(), read);
    return read;
  }
}
