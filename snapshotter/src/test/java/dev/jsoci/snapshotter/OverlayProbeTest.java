package dev.jsoci.snapshotter;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.snapshotter.unpack.LayerUnpacker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mounts the probe overlay for real; needs root for mount(8). */
class OverlayProbeTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path directory;

  private static List<Path> probeDirectories(Path root) throws IOException {
    try (Stream<Path> entries = Files.list(root.resolve("snapshotter"))) {
      return entries.filter(path -> path.getFileName().toString().startsWith("overlay-")).toList();
    }
  }

  @Test
  void check_supportedRoot_passesAndLeavesNothing() throws IOException {
    assumeTrue(LayerUnpacker.runsAsRoot(), "mounting an overlay needs root");
    Path root = directory.resolve("root");

    OverlayProbe.check(root, OverlayOptions.detect());

    assertThat(probeDirectories(root)).isEmpty();
    assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(root.toString());
  }

  @Test
  void check_rootOnOverlayfs_fails() throws IOException {
    assumeTrue(LayerUnpacker.runsAsRoot(), "mounting an overlay needs root");
    // overlayfs does not accept another overlay as its upper directory.
    Path outer = directory.resolve("outer");
    for (String name : List.of("lower", "upper", "work", "merged")) {
      Files.createDirectories(outer.resolve(name));
    }
    Path merged = outer.resolve("merged");
    Commands.run(
        List.of(
            "mount",
            "-t",
            "overlay",
            "-o",
            "lowerdir="
                + outer.resolve("lower")
                + ",upperdir="
                + outer.resolve("upper")
                + ",workdir="
                + outer.resolve("work"),
            "overlay",
            merged.toString()),
        TIMEOUT);
    try {
      Path root = merged.resolve("root");

      IOException e =
          assertThrows(IOException.class, () -> OverlayProbe.check(root, OverlayOptions.detect()));

      assertThat(e).hasMessageThat().startsWith("overlayfs does not work under " + root + ": ");
      assertThat(e).hasMessageThat().contains("skip_check_snapshotter_supported = true");
      assertThat(probeDirectories(root)).isEmpty();
    } finally {
      Commands.run(List.of("umount", merged.toString()), TIMEOUT);
    }
  }
}
