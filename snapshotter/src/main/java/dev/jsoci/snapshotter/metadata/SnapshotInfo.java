package dev.jsoci.snapshotter.metadata;

import java.time.Instant;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The description of a snapshot that containerd receives: its name (the key of an active or view
 * snapshot), its parent's name (empty when it has none), kind, times and labels.
 */
public record SnapshotInfo(
    String name,
    String parent,
    Kind kind,
    Instant createdAt,
    Instant updatedAt,
    Map<String, String> labels) {

  public SnapshotInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(parent, "parent");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(createdAt, "createdAt");
    Objects.requireNonNull(updatedAt, "updatedAt");
    labels = Collections.unmodifiableMap(new TreeMap<>(labels));
  }
}
