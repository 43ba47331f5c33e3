package dev.jsoci.cli;

import dev.jsoci.snapshotter.Commands;
import dev.jsoci.snapshotter.MountTable;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Finds mount points in this process's mount table and mounts or unmounts overlays with
 * util-linux's {@code mount} and {@code umount}.
 */
final class MountPoints {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  private MountPoints() {}

  /** Returns the mount points at or below {@code directory}, deepest first. */
  static List<Path> under(Path directory) throws IOException {
    return MountTable.mountpointsUnder(directory);
  }

  static boolean isMounted(Path path) throws IOException {
    return MountTable.isMountpoint(path);
  }

  /** Mounts a read-only overlay, or a writable one when {@code options} name an upper directory. */
  static void mountOverlay(Path target, String options) throws IOException {
    run(List.of("mount", "-t", "overlay", "-o", options, "jsoci-overlay", target.toString()));
  }

  /**
   * Unmounts {@code target}; a busy mount is detached lazily instead.
   *
   * @return whether the mount had to be detached lazily
   */
  static boolean unmount(Path target) throws IOException {
    try {
      run(List.of("umount", target.toString()));
      return false;
    } catch (IOException e) {
      if (!isMounted(target)) {
        return false;
      }
      if (!e.getMessage().contains("busy")) {
        throw e;
      }
      run(List.of("umount", "-l", target.toString()));
      return true;
    }
  }

  private static void run(List<String> command) throws IOException {
    Commands.run(command, TIMEOUT);
  }
}
