package dev.jsoci.snapshotter.metadata;

import java.util.List;
import java.util.Objects;

/**
 * A stored snapshot: its numeric id, which names its directory and is never reused, its description
 * for containerd, its stored usage (zero until committed), and the ids of its ancestors.
 *
 * @param parentIds ancestor ids, nearest parent first: the order of an overlay {@code lowerdir}
 */
public record SnapshotRecord(long id, SnapshotInfo info, Usage usage, List<Long> parentIds) {
  public SnapshotRecord {
    Objects.requireNonNull(info, "info");
    Objects.requireNonNull(usage, "usage");
    parentIds = List.copyOf(parentIds);
    if (id <= 0) {
      throw new IllegalArgumentException("id must be positive: " + id);
    }
  }
}
