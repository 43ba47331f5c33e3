package dev.jsoci.snapshotter;

/**
 * Receives the outcome of each remote-snapshot {@code Prepare} and each failed layer mount, for
 * metrics. Methods are called on gRPC threads and must be fast and must not throw.
 */
public interface SnapshotterListener {
  /** A listener that ignores every event. */
  SnapshotterListener NONE = new SnapshotterListener() {};

  /** The outcome of a {@code Prepare} that names an image layer. */
  enum PrepareOutcome {
    /** The layer was mounted through FUSE and is read lazily. */
    LAZY,
    /** The snapshotter downloaded and unpacked the layer itself. */
    UNPACKED,
    /** The active snapshot was returned, so containerd unpacks the layer. */
    DEFERRED
  }

  /** The cause of a failed remote layer mount. */
  enum MountFailure {
    /** The image has no SOCI index, or the index could not be read. */
    NO_INDEX,
    /** The image's SOCI index has no zTOC for the layer, as for layers below its size threshold. */
    NO_ZTOC,
    /** Any other failure: a registry error, an invalid zTOC, a failed FUSE mount. */
    ERROR
  }

  /**
   * Called when a {@code Prepare} of an image layer ends without an error of its own.
   *
   * @param durationNanos the time from the start of the {@code Prepare} to its outcome
   */
  default void remotePrepared(PrepareOutcome outcome, long durationNanos) {}

  /** Called when mounting a layer remotely failed, before the layer is unpacked or deferred. */
  default void layerMountFailed(MountFailure failure) {}
}
