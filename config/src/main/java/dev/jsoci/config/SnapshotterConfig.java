package dev.jsoci.config;

/**
 * Snapshot decisions ({@code [snapshotter]}).
 *
 * @param minLayerSizeBytes layers smaller than this are pulled whole instead of lazily; 0 turns the
 *     check off. Only effective when the client sends the {@code
 *     containerd.io/snapshot/remote/soci.size} label.
 */
public record SnapshotterConfig(long minLayerSizeBytes) {
  public static final SnapshotterConfig DEFAULTS = new SnapshotterConfig(0);

  public SnapshotterConfig {
    if (minLayerSizeBytes < 0) {
      throw new IllegalArgumentException(
          "minLayerSizeBytes must not be negative: " + minLayerSizeBytes);
    }
  }
}
