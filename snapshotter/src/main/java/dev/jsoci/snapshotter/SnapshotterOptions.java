package dev.jsoci.snapshotter;

import java.util.Objects;
import java.util.Optional;

/**
 * What the snapshotter needs from the daemon's configuration.
 *
 * @param mounter mounts remote layers; empty turns lazy pulling off, so every layer is unpacked by
 *     containerd
 * @param localUnpacker unpacks, in the daemon, a layer of an image with a SOCI index that the
 *     mounter cannot mount; empty leaves such layers to containerd
 * @param minLayerSizeBytes layers whose {@code containerd.io/snapshot/remote/soci.size} label is
 *     smaller are not mounted remotely; 0 turns the check off
 * @param listener receives the outcome of each remote-snapshot {@code Prepare}
 */
public record SnapshotterOptions(
    Optional<RemoteLayerMounter> mounter,
    Optional<LocalLayerUnpacker> localUnpacker,
    long minLayerSizeBytes,
    SnapshotterListener listener) {
  public static final SnapshotterOptions NO_REMOTE_LAYERS =
      new SnapshotterOptions(Optional.empty(), Optional.empty(), 0);

  public SnapshotterOptions {
    Objects.requireNonNull(mounter, "mounter");
    Objects.requireNonNull(localUnpacker, "localUnpacker");
    Objects.requireNonNull(listener, "listener");
    if (minLayerSizeBytes < 0) {
      throw new IllegalArgumentException(
          "minLayerSizeBytes must not be negative: " + minLayerSizeBytes);
    }
  }

  /** Creates options without a listener. */
  public SnapshotterOptions(
      Optional<RemoteLayerMounter> mounter,
      Optional<LocalLayerUnpacker> localUnpacker,
      long minLayerSizeBytes) {
    this(mounter, localUnpacker, minLayerSizeBytes, SnapshotterListener.NONE);
  }
}
