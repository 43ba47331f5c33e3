package dev.jsoci.snapshotter;

import dev.jsoci.fs.LowerLayers;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;

/**
 * A remote layer mounter that mounts nothing: it records its calls and fails on request, by layer
 * digest or by mountpoint. A layer in {@code unindexedLayerDigests} fails as a layer of an image
 * without a SOCI index, one in {@code failingLayerDigests} as a layer without a zTOC.
 *
 * <p>With {@code findsZtocs} set, {@link #findZtoc} reports zTOCs for the layers as an index would,
 * so the snapshotter mounts them in the background. A layer in {@code failingMountDigests} then
 * fails only its mount, and mounts wait until {@code mountGate} is released. A layer in {@code
 * ztoclessLayerDigests} is one that the image's index leaves out.
 */
class RecordingMounter implements RemoteLayerMounter {
  record MountCall(RemoteLayerRequest request, Path mountpoint) {}

  final List<MountCall> mounts = new ArrayList<>();
  final List<Path> checks = new ArrayList<>();
  final List<Path> unmounts = new ArrayList<>();
  final Set<String> failingLayerDigests = new HashSet<>();
  final Set<String> unindexedLayerDigests = new HashSet<>();
  final Set<Path> failingChecks = new HashSet<>();
  final Set<String> failingMountDigests = ConcurrentHashMap.newKeySet();
  final Set<String> ztoclessLayerDigests = ConcurrentHashMap.newKeySet();
  final Semaphore mountGate = new Semaphore(Integer.MAX_VALUE);
  volatile boolean findsZtocs;

  @Override
  public boolean findZtoc(RemoteLayerRequest request) throws IOException {
    if (!findsZtocs) {
      return false;
    }
    String digest = request.layerDigest().toString();
    if (unindexedLayerDigests.contains(digest)) {
      throw new NoSociIndexException("no SOCI index found for " + request.imageRef());
    }
    if (failingLayerDigests.contains(digest)) {
      throw new IOException("no zTOC for layer " + digest);
    }
    if (ztoclessLayerDigests.contains(digest)) {
      throw new FuseLayerMounter.NoZtocException(request.layerDigest(), request.imageRef());
    }
    return true;
  }

  @Override
  public void mount(RemoteLayerRequest request, Path mountpoint, LowerLayers lowers)
      throws IOException {
    try {
      mountGate.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to mount " + mountpoint);
    }
    mountGate.release();
    recordMount(request, mountpoint);
  }

  private synchronized void recordMount(RemoteLayerRequest request, Path mountpoint)
      throws IOException {
    mounts.add(new MountCall(request, mountpoint));
    String digest = request.layerDigest().toString();
    if (failingMountDigests.contains(digest)) {
      throw new IOException("zTOC of layer " + digest + " is invalid");
    }
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
