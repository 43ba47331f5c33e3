package dev.jsoci.snapshotter;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.Platform;
import dev.jsoci.snapshotter.unpack.LayerDownloader;
import dev.jsoci.snapshotter.unpack.LayerUnpacker;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unpacks a layer in the daemon: reads the image manifest and config from the registry for the
 * layer's {@code diff_id}, then downloads, checks and unpacks the layer with a {@link
 * LayerDownloader}. Safe for concurrent use.
 */
final class RegistryLayerUnpacker implements LocalLayerUnpacker {
  private static final Logger LOG = LoggerFactory.getLogger(RegistryLayerUnpacker.class);
  private static final int CACHED_IMAGES = 256;

  /** The layers and diff_ids of an image manifest, in the same order. */
  private record ImageLayers(List<Descriptor> layers, List<Digest> diffIds) {}

  private final RegistryClient client;
  private final LayerDownloader downloader;
  private final Platform platform;
  private final Cache<Digest, ImageLayers> images =
      Caffeine.newBuilder().maximumSize(CACHED_IMAGES).build();

  /** @param platform the platform chosen when a request names an image by tag only */
  RegistryLayerUnpacker(RegistryClient client, LayerUnpacker unpacker, Platform platform) {
    this.client = client;
    this.downloader = new LayerDownloader(client, unpacker);
    this.platform = platform;
  }

  @Override
  public void unpack(RemoteLayerRequest request, Path directory, Path temporaryFile)
      throws IOException {
    ImageRef image = request.imageRef();
    Digest manifest = request.manifestDigest().orElse(null);
    if (manifest == null) {
      manifest = client.resolveImage(image, platform).manifest().descriptor().digest();
    }
    ImageLayers imageLayers = imageLayers(image, manifest);
    int position = positionOf(imageLayers.layers(), request.layerDigest());
    if (position < 0) {
      throw new IOException(
          "layer " + request.layerDigest() + " is not in manifest " + manifest + " of " + image);
    }
    if (imageLayers.diffIds().size() != imageLayers.layers().size()) {
      throw new IOException(
          "the config of manifest "
              + manifest
              + " of "
              + image
              + " has "
              + imageLayers.diffIds().size()
              + " diff_ids for "
              + imageLayers.layers().size()
              + " layers");
    }

    LayerUnpacker.Summary summary =
        downloader.unpack(
            image,
            imageLayers.layers().get(position),
            imageLayers.diffIds().get(position),
            directory,
            temporaryFile);
    if (summary.skipped() > 0) {
      LOG.atWarn()
          .addKeyValue("layer", request.layerDigest().toString())
          .addKeyValue("count", summary.skipped())
          .log("skipped devices, fifos or xattrs that need root");
    }
  }

  private ImageLayers imageLayers(ImageRef image, Digest manifestDigest) throws IOException {
    ImageLayers cached = images.getIfPresent(manifestDigest);
    if (cached != null) {
      return cached;
    }
    ImageManifest manifest =
        ImageManifest.parse(client.fetchManifest(image, manifestDigest).bytes());
    List<Digest> diffIds = LayerDownloader.diffIds(client, image, manifest.config());
    ImageLayers layers = new ImageLayers(manifest.layers(), diffIds);
    images.put(manifestDigest, layers);
    return layers;
  }

  private static int positionOf(List<Descriptor> layers, Digest layer) {
    for (int i = 0; i < layers.size(); i++) {
      if (layers.get(i).digest().equals(layer)) {
        return i;
      }
    }
    return -1;
  }
}
