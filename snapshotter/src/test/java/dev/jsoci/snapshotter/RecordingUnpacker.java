package dev.jsoci.snapshotter;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * A local layer unpacker that writes one file, {@code layer.txt} with the layer digest, into the
 * directory and records its calls. With {@code failing} set, it writes the file and a temporary
 * file, then fails, as a download that breaks halfway would. Unpacks wait until {@code gate} is
 * released.
 */
final class RecordingUnpacker implements LocalLayerUnpacker {
  record UnpackCall(RemoteLayerRequest request, Path directory, Path temporaryFile) {}

  final List<UnpackCall> unpacks = Collections.synchronizedList(new ArrayList<>());
  final Semaphore gate = new Semaphore(Integer.MAX_VALUE);
  volatile boolean failing;

  @Override
  public void unpack(
      RemoteLayerRequest request, Path directory, Path temporaryFile, List<Path> lowerDirectories)
      throws IOException {
    try {
      gate.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to unpack into " + directory);
    }
    gate.release();
    unpacks.add(new UnpackCall(request, directory, temporaryFile));
    Files.createDirectories(directory.resolve("etc"));
    Files.writeString(
        directory.resolve("etc").resolve("layer.txt"), request.layerDigest().toString());
    if (failing) {
      Files.writeString(temporaryFile, "partial tar");
      throw new IOException("uncompressed digests did not match");
    }
  }
}
