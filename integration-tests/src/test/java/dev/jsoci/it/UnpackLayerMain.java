package dev.jsoci.it;

import dev.jsoci.fs.OpaqueXattr;
import dev.jsoci.snapshotter.unpack.LayerUnpacker;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Unpacks one uncompressed layer tar into a directory with {@link LayerUnpacker}, so that a test
 * can run the unpacker in a JVM of its own, such as one with a small heap.
 *
 * <p>Arguments: the tar file and the existing target directory. Prints the summary and exits with
 * status 0, or lets the exception end the JVM with status 1.
 */
final class UnpackLayerMain {
  private UnpackLayerMain() {}

  public static void main(String[] args) throws IOException {
    LayerUnpacker.Summary summary =
        LayerUnpacker.forCurrentUser(OpaqueXattr.TRUSTED)
            .unpack(Path.of(args[0]), Path.of(args[1]), "test-layer");
    System.out.println(summary);
  }
}
