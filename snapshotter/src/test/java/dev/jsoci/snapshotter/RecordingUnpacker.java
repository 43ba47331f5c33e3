package dev.jsoci.snapshotter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A local layer unpacker that writes one file, {@code layer.txt} with the layer digest, into the
 * directory and records its calls. With {@code failing} set, it writes the file and a temporary
 * file, then fails, as a download that breaks halfway would.
 */
final class RecordingUnpacker implements LocalLayerUnpacker {
  record UnpackCall(RemoteLayerRequest request, Path directory, Path temporaryFile) {}

  final List<UnpackCall> unpacks = new ArrayList<>();
  boolean failing;

  @Override
  public synchronized void unpack(
      RemoteLayerRequest request, Path directory, Path temporaryFile, List<Path> lowerDirectories)
      throws IOException {
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
