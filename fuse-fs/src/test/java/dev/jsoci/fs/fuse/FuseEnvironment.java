package dev.jsoci.fs.fuse;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Skips a test where real FUSE mounts cannot work: no root, no /dev/fuse or no fusermount. */
final class FuseEnvironment {
  private static final Path DEV_FUSE = Path.of("/dev/fuse");

  private FuseEnvironment() {}

  /** Skips the calling test unless it runs as root with /dev/fuse and fusermount available. */
  static void assumeFuseMounts() throws IOException {
    assumeTrue(isRoot(), "needs root: the tests mount FUSE and overlayfs and create device nodes");
    assumeTrue(
        Files.exists(DEV_FUSE) && Files.isReadable(DEV_FUSE) && Files.isWritable(DEV_FUSE),
        "needs a usable /dev/fuse (install the fuse package, or load the fuse module)");
    assumeTrue(onPath("fusermount"), "needs fusermount on the PATH (install the fuse package)");
    assumeTrue(
        Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libfuse.so.2"))
            || Files.exists(Path.of("/usr/lib/aarch64-linux-gnu/libfuse.so.2"))
            || Files.exists(Path.of("/lib64/libfuse.so.2"))
            || Files.exists(Path.of("/usr/lib64/libfuse.so.2")),
        "needs libfuse 2 (libfuse.so.2; install the fuse package)");
  }

  /** Skips the calling test unless {@code program} is on the PATH. */
  static void assumeProgram(String program, String packageName) {
    assumeTrue(onPath(program), "needs " + program + " on the PATH (install " + packageName + ")");
  }

  static boolean onPath(String program) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String directory : path.split(":")) {
      if (!directory.isEmpty() && Files.isExecutable(Path.of(directory, program))) {
        return true;
      }
    }
    return false;
  }

  private static boolean isRoot() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("Uid:")) {
        return line.split("\\s+")[2].equals("0");
      }
    }
    return false;
  }
}
