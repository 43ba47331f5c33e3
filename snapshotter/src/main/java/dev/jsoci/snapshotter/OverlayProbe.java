package dev.jsoci.snapshotter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

/**
 * Checks at start that overlayfs works where the snapshots live, as containerd mounts them: an
 * overlay with an upper directory and two lower directories, each of whose files must show. A root
 * on a file system that overlayfs rejects as upper directory (such as xfs without {@code ftype=1},
 * or overlayfs itself) then stops the daemon with one clear error, instead of failing the first
 * container.
 */
final class OverlayProbe {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private OverlayProbe() {}

  /**
   * Mounts a small overlay in a new directory under {@code root}/snapshotter and removes it again.
   *
   * @throws IOException naming the root, the mount and what to do when the overlay cannot be
   *     mounted or does not show the lower files
   */
  static void check(Path root, OverlayOptions options) throws IOException {
    Path snapshotterRoot = root.resolve("snapshotter");
    for (Path directory : List.of(root, snapshotterRoot)) {
      Files.createDirectories(directory);
      Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
    }
    Path probe = Files.createTempDirectory(snapshotterRoot, "overlay-probe-");
    try {
      Path lower = Files.createDirectory(probe.resolve("lower"));
      Path lowest = Files.createDirectory(probe.resolve("lowest"));
      Path upper = Files.createDirectory(probe.resolve("upper"));
      Path work = Files.createDirectory(probe.resolve("work"));
      Path merged = Files.createDirectory(probe.resolve("merged"));
      Files.writeString(lower.resolve("lower"), "lower\n", StandardCharsets.US_ASCII);
      Files.writeString(lowest.resolve("lowest"), "lowest\n", StandardCharsets.US_ASCII);

      String joined =
          String.join(
              ",", OverlayMounts.overlayOptions(options, work, upper, List.of(lower, lowest)));
      try {
        Commands.run(
            List.of("mount", "-t", "overlay", "-o", joined, "overlay", merged.toString()), TIMEOUT);
      } catch (IOException e) {
        throw unsupported(root, e.getMessage(), e);
      }
      try {
        if (!Files.exists(merged.resolve("lower")) || !Files.exists(merged.resolve("lowest"))) {
          throw unsupported(
              root, "the overlay does not show the files of its lower directories", null);
        }
      } finally {
        Commands.run(List.of("umount", merged.toString()), TIMEOUT);
      }
    } finally {
      SnapshotDirectories.deleteRecursively(probe);
    }
  }

  private static IOException unsupported(Path root, String reason, Exception cause) {
    return new IOException(
        "overlayfs does not work under "
            + root
            + ": "
            + reason
            + ". Put the root (--root) on a file system that overlayfs accepts as upper directory,"
            + " such as ext4, or xfs formatted with ftype=1; or set"
            + " skip_check_snapshotter_supported = true to start without this check",
        cause);
  }
}
