package dev.jsoci.snapshotter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Downloads a whole image layer and unpacks it into a snapshot directory, for a layer of an image
 * with a SOCI index that cannot be mounted lazily. Unpacking it in the daemon keeps containerd 1.6
 * out of its own fetch path, which would download this layer and every layer above it, including
 * those mounted lazily. Implementations must be safe for concurrent calls on different directories.
 */
public interface LocalLayerUnpacker {
  /**
   * Downloads the layer described by {@code request}, checks its uncompressed digest against the
   * image config's {@code diff_id}, and unpacks it into {@code directory}, an existing empty
   * directory, converting whiteouts to overlayfs whiteouts.
   *
   * @param temporaryFile a path that does not exist, for the decompressed tar; it is deleted before
   *     the call returns
   * @param lowerDirectories the directories of the layers below, the nearest first; the parents
   *     that the layer leaves out follow their directories and symbolic links
   * @throws IOException if any step fails; {@code directory} may then contain part of the layer
   */
  void unpack(
      RemoteLayerRequest request, Path directory, Path temporaryFile, List<Path> lowerDirectories)
      throws IOException;
}
