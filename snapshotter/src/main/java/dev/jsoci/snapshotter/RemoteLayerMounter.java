package dev.jsoci.snapshotter;

import dev.jsoci.fs.LowerLayers;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Mounts image layers that are read lazily from a registry, each on a directory of its own.
 *
 * <p>The snapshotter calls {@link #findZtoc} from {@code Prepare} for a layer whose labels name it,
 * then {@link #mount}, after the {@code Prepare} when {@link #findZtoc} returned true. It calls
 * {@link #mount} again at start for every remote snapshot stored by an earlier run; it calls {@link
 * #check} before handing out mounts that use the layer, and {@link #unmount} when the snapshot is
 * removed and when the daemon stops. Implementations must be safe for concurrent calls on different
 * mountpoints.
 */
public interface RemoteLayerMounter {
  /**
   * Looks up the layer's zTOC in its image's SOCI index, without waiting to read the zTOC itself,
   * and may start reading it so that {@link #mount} finds it sooner.
   *
   * @return true when the index lists a zTOC for the layer: the snapshotter then commits the layer
   *     and mounts it in the background. False when this mounter cannot tell before mounting
   * @throws NoSociIndexException if the layer's image has no usable SOCI index
   * @throws IOException if the index has no zTOC for the layer, or another lookup fails
   */
  default boolean findZtoc(RemoteLayerRequest request) throws IOException {
    return false;
  }

  /**
   * Mounts the layer described by {@code request} at {@code mountpoint}, an existing directory that
   * is empty or contains a dead mount left by an earlier process. Implementations clear such a
   * mount just before mounting, after their registry requests, because readers of the mountpoint
   * get ENOENT between the two. Blocks until the mount can serve reads.
   *
   * @param lowers the layers below, as the overlay of a container stacks them. Parent directories
   *     that the layer leaves out take their attributes from these.
   * @throws NoSociIndexException if the layer's image has no usable SOCI index; the snapshotter
   *     then lets containerd download the layer
   * @throws IOException if the layer cannot be mounted for another reason, such as a layer without
   *     a zTOC; nothing is left mounted then
   */
  void mount(RemoteLayerRequest request, Path mountpoint, LowerLayers lowers) throws IOException;

  /**
   * Checks that the layer mounted at {@code mountpoint} can still serve reads, for example that its
   * registry still answers.
   *
   * @throws IOException naming the reason when it cannot, including when nothing is mounted there
   */
  void check(Path mountpoint) throws IOException;

  /**
   * Unmounts the layer at {@code mountpoint} and releases what it holds. Also clears a mount left
   * by an earlier process at that path.
   *
   * @throws IOException if the mount stays in place
   */
  void unmount(Path mountpoint) throws IOException;
}
