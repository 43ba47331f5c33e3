package dev.jsoci.snapshotter;

import dev.jsoci.fetcher.span.SpanManager;
import dev.jsoci.fs.LowerLayers;
import dev.jsoci.fs.fuse.FuseMount;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.snapshotter.lazy.LazyLayer;
import dev.jsoci.snapshotter.lazy.LazyLayers;
import dev.jsoci.snapshotter.lazy.MountedLayer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mounts layers that have a zTOC in their image's SOCI index through FUSE, with {@link LazyLayers},
 * and keeps each {@link MountedLayer} by its mountpoint.
 *
 * <p>A layer of an image without a SOCI index fails {@link #mount} with {@link
 * NoSociIndexException}, and a layer that the index skipped fails with {@link NoZtocException}.
 * Safe for concurrent calls; different mountpoints do not wait for each other.
 */
final class FuseLayerMounter implements RemoteLayerMounter {
  private static final Logger LOG = LoggerFactory.getLogger(FuseLayerMounter.class);

  /** The registry request that checks whether a layer blob is still available. */
  @FunctionalInterface
  interface BlobProbe {
    /**
     * Asks the registry of {@code repository} whether it still has the blob {@code layer}.
     *
     * @throws IOException if the registry does not reply, or replies that the blob is missing
     */
    void check(ImageRef repository, Digest layer) throws IOException;
  }

  /** Thrown by {@link #mount} when the layer has no zTOC, so it cannot be read lazily. */
  static final class NoZtocException extends IOException {
    NoZtocException(Digest layer, ImageRef image) {
      super("layer " + layer + " of " + image + " has no zTOC in a SOCI index; not mounted lazily");
    }
  }

  /** One mounted layer and the last time the registry was seen to have its blob. */
  private static final class Entry {
    final MountedLayer layer;
    final ImageRef repository;
    volatile Instant lastVerified;

    Entry(MountedLayer layer, ImageRef repository, Instant lastVerified) {
      this.layer = layer;
      this.repository = repository;
      this.lastVerified = lastVerified;
    }
  }

  private final LazyLayers layers;
  private final BlobProbe probe;
  private final Duration validInterval;
  private final Duration unmountTimeout;
  private final Clock clock;
  private final Map<Path, Entry> mounted = new ConcurrentHashMap<>();

  /**
   * @param probe asks the registry for a layer blob during {@link #check}
   * @param validInterval how long after mounting, or after the last successful probe, {@link
   *     #check} trusts the registry without asking it again; zero asks at every check
   * @param unmountTimeout how long clearing a dead mount may take
   */
  FuseLayerMounter(
      LazyLayers layers,
      BlobProbe probe,
      Duration validInterval,
      Duration unmountTimeout,
      Clock clock) {
    this.layers = layers;
    this.probe = probe;
    this.validInterval = validInterval;
    this.unmountTimeout = unmountTimeout;
    this.clock = clock;
  }

  /**
   * Looks up the layer in its image's SOCI index and starts reading the image's zTOCs, without
   * waiting for them.
   *
   * @return true, as the index lists a zTOC for the layer
   * @throws NoSociIndexException if the image has no SOCI index, or reading the index fails
   * @throws NoZtocException if the image's index has no zTOC for the layer
   */
  @Override
  public boolean findZtoc(RemoteLayerRequest request) throws IOException {
    LazyLayers.ZtocPresence presence;
    try {
      presence =
          layers.findZtoc(
              request.imageRef(),
              request.manifestDigest().orElse(null),
              request.sociIndexDigest().orElse(null),
              request.layerDigest());
    } catch (IOException | IllegalArgumentException e) {
      throw unreadableIndex(request, e);
    }
    switch (presence) {
      case NO_INDEX -> throw noIndex(request);
      case NO_ZTOC -> throw new NoZtocException(request.layerDigest(), request.imageRef());
      default -> {
        return true;
      }
    }
  }

  /**
   * Finds the layer's zTOC and mounts the layer at {@code mountpoint}.
   *
   * @throws NoSociIndexException if the image has no SOCI index, or reading the index or the
   *     layer's zTOC fails
   * @throws NoZtocException if the image's index has no zTOC for the layer
   * @throws IOException if the FUSE mount fails; nothing is left mounted then
   */
  @Override
  public void mount(RemoteLayerRequest request, Path mountpoint, LowerLayers lowers)
      throws IOException {
    Path target = normalize(mountpoint);
    if (mounted.containsKey(target)) {
      throw new IOException("a layer is already mounted at " + target);
    }

    LazyLayers.Lookup lookup;
    try {
      lookup =
          layers.lookup(
              request.imageRef(),
              request.manifestDigest().orElse(null),
              request.sociIndexDigest().orElse(null),
              request.layerDigest());
    } catch (IOException | IllegalArgumentException e) {
      throw unreadableIndex(request, e);
    }
    if (!lookup.indexFound()) {
      throw noIndex(request);
    }
    Optional<LazyLayer> layer = lookup.layer();
    if (layer.isEmpty()) {
      throw new NoZtocException(request.layerDigest(), request.imageRef());
    }

    // Cleared only now, after the registry lookups: until the new mount is in place, the
    // mountpoint is an empty directory and readers get ENOENT.
    if (MountTable.isMountpoint(target) && FuseMount.unmountLeftover(target, unmountTimeout)) {
      LOG.atInfo()
          .addKeyValue("mountpoint", target.toString())
          .log("unmounted a mount left by an earlier process");
    }
    MountedLayer mountedLayer = layers.mount(layer.get(), target, lowers);
    Entry entry = new Entry(mountedLayer, layer.get().repository(), clock.instant());
    Entry previous = mounted.putIfAbsent(target, entry);
    if (previous != null) {
      // Two calls raced for one mountpoint; FuseMount rejects a second mount, so this is unlikely.
      mountedLayer.close();
      throw new IOException("a layer is already mounted at " + target);
    }
  }

  private static NoSociIndexException unreadableIndex(RemoteLayerRequest request, Exception e) {
    return new NoSociIndexException(
        "cannot read the SOCI index or the zTOC of layer "
            + request.layerDigest()
            + " of "
            + request.imageRef()
            + ", so the layer is pulled whole: "
            + e.getMessage(),
        e);
  }

  private static NoSociIndexException noIndex(RemoteLayerRequest request) {
    return new NoSociIndexException(
        "no SOCI index found for " + request.imageRef() + "; not mounted lazily");
  }

  /**
   * Checks that the mount at {@code mountpoint} is live and its spans are open. A layer whose spans
   * are all cached needs nothing more; otherwise the registry is asked for the blob when {@code
   * validInterval} has passed since the mount or the last successful probe.
   */
  @Override
  public void check(Path mountpoint) throws IOException {
    Path target = normalize(mountpoint);
    Entry entry = mounted.get(target);
    if (entry == null) {
      throw new IOException("no layer is mounted at " + target);
    }
    SpanManager spans = entry.layer.spans();
    if (spans.isClosed()) {
      throw new IOException("layer " + entry.layer.layer() + " was released");
    }
    if (!MountTable.isMountpoint(target)) {
      throw new IOException("layer " + entry.layer.layer() + " is no longer mounted at " + target);
    }
    // A dead FUSE server makes this fail with ENOTCONN; a live one replies from the layer tree.
    Files.readAttributes(target, "unix:ino", LinkOption.NOFOLLOW_LINKS);

    if (isFullyCached(spans)) {
      return;
    }
    Instant now = clock.instant();
    if (Duration.between(entry.lastVerified, now).compareTo(validInterval) < 0) {
      return;
    }
    probe.check(entry.repository, entry.layer.layer());
    entry.lastVerified = now;
  }

  private static boolean isFullyCached(SpanManager spans) {
    for (int span = 0; span < spans.spanCount(); span++) {
      if (!spans.isCached(span)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Unmounts the layer at {@code mountpoint} and releases its spans. When this mounter has no layer
   * there, clears a dead mount that an earlier process left.
   */
  @Override
  public void unmount(Path mountpoint) throws IOException {
    Path target = normalize(mountpoint);
    Entry entry = mounted.remove(target);
    if (entry != null) {
      entry.layer.close();
      LOG.atDebug()
          .addKeyValue("layer", entry.layer.layer().toString())
          .addKeyValue("mountpoint", target.toString())
          .log("released lazily mounted layer");
      return;
    }
    if (FuseMount.unmountLeftover(target, unmountTimeout)) {
      LOG.atInfo()
          .addKeyValue("mountpoint", target.toString())
          .log("unmounted a mount left by an earlier process");
    }
  }

  /** Returns the number of layers mounted now. */
  int mountedCount() {
    return mounted.size();
  }

  private static Path normalize(Path mountpoint) {
    return mountpoint.toAbsolutePath().normalize();
  }
}
