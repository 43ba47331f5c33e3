package dev.jsoci.snapshotter;

import java.util.Objects;
import java.util.Optional;

/**
 * What the snapshotter needs from the daemon's configuration.
 *
 * @param mounter mounts remote layers; empty turns lazy pulling off, so every layer is unpacked by
 *     containerd
 * @param minLayerSizeBytes layers whose {@code containerd.io/snapshot/remote/soci.size} label is
 *     smaller are not mounted remotely; 0 turns the check off
 */
public record SnapshotterOptions(Optional<RemoteLayerMounter> mounter, long minLayerSizeBytes) {
  public static final SnapshotterOptions NO_REMOTE_LAYERS =
      new SnapshotterOptions(Optional.empty(), 0);

  public SnapshotterOptions {
    Objects.requireNonNull(mounter, "mounter");
    if (minLayerSizeBytes < 0) {
      throw new IllegalArgumentException(
          "minLayerSizeBytes must not be negative: " + minLayerSizeBytes);
    }
  }
}
