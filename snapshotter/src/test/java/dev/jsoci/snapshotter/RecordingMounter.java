package dev.jsoci.snapshotter;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A remote layer mounter that mounts nothing: it records its calls and fails on request, by layer
 * digest or by mountpoint. A layer in {@code unindexedLayerDigests} fails as a layer of an image
 * without a SOCI index, one in {@code failingLayerDigests} as a layer without a zTOC.
 */
class RecordingMounter implements RemoteLayerMounter {
  record MountCall(RemoteLayerRequest request, Path mountpoint) {}

  final List<MountCall> mounts = new ArrayList<>();
  final List<Path> checks = new ArrayList<>();
  final List<Path> unmounts = new ArrayList<>();
  final Set<String> failingLayerDigests = new HashSet<>();
  final Set<String> unindexedLayerDigests = new HashSet<>();
  final Set<Path> failingChecks = new HashSet<>();

  @Override
  public synchronized void mount(
      RemoteLayerRequest request, Path mountpoint, List<Path> lowerDirectories) throws IOException {
    mounts.add(new MountCall(request, mountpoint));
    String digest = request.layerDigest().toString();
    if (unindexedLayerDigests.contains(digest)) {
      throw new NoSociIndexException("no SOCI index found for " + request.imageRef());
    }
    if (failingLayerDigests.contains(digest)) {
      throw new IOException("no zTOC for layer " + digest);
    }
  }

  @Override
  public synchronized void check(Path mountpoint) throws IOException {
    checks.add(mountpoint);
    if (failingChecks.contains(mountpoint)) {
      throw new IOException("registry does not answer");
    }
  }

  @Override
  public synchronized void unmount(Path mountpoint) {
    unmounts.add(mountpoint);
  }
}
