package dev.jsoci.snapshotter;

import dev.jsoci.snapshotter.metadata.SnapshotInfo;
import java.util.Map;

/** The way a snapshot was made, derived from the labels the snapshotter writes on commit. */
public enum SnapshotOrigin {
  /** A layer mounted through FUSE and read lazily: the snapshot carries the remote label. */
  LAZY,
  /** A layer of a SOCI-enabled image that the snapshotter unpacked itself. */
  UNPACKED,
  /** Anything else: layers containerd unpacked, containers' active snapshots, views. */
  ORDINARY;

  /** Returns the origin of {@code info}. */
  public static SnapshotOrigin of(SnapshotInfo info) {
    Map<String, String> labels = info.labels();
    if (labels.containsKey(SnapshotLabels.REMOTE)) {
      return LAZY;
    }
    if ("true".equals(labels.get(SnapshotLabels.HAS_SOCI_INDEX_DIGEST))) {
      return UNPACKED;
    }
    return ORDINARY;
  }
}
