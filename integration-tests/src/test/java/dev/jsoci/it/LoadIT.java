package dev.jsoci.it;

import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.testing.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@link LoadRun} for 15 s: 64 readers over 10 layers that the real daemon mounted lazily,
 * with the background fetcher on. {@code scripts/bench-load.sh} runs the 60 s version.
 */
class LoadIT {
  /**
   * A read slower than this counts as a hang. On a 2-core machine shared with other builds, single
   * reads under this load have taken up to 16 s.
   */
  private static final Duration HANG_TIMEOUT = Duration.ofSeconds(90);

  @TempDir Path work;

  @Test
  void concurrentReaders_readSourceBytes_withoutHang() throws Exception {
    assumeTrue(Processes.isRoot(), "needs root for FUSE mounts");
    assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/fusermount")), "fusermount is not installed");
    assumeTrue(LocalRegistry.isInstalled(), "docker-registry is not installed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed");
    Path checkout = checkout();
    assumeTrue(
        Files.exists(checkout.resolve("snapshotter/target/jsoci-snapshotter.jar")),
        "the snapshotter jar is not built");

    LoadRun.Settings settings =
        new LoadRun.Settings(
            10, 64, Duration.ofSeconds(15), 120, 32 * 1024, 2, 2 << 20, 256 * 1024,
            Duration.ofSeconds(3), HANG_TIMEOUT);
    LoadRun.Result result = LoadRun.run(settings, work, checkout);
    String report = result.summary() + "\nfailures: " + result.failureMessages();

    assertWithMessage("daemon thread dump after a hang:\n%s", result.threadDump())
        .that(result.hung())
        .isFalse();
    assertWithMessage(report).that(result.failures()).isEqualTo(0);
    assertWithMessage(report).that(result.mountedLayers()).isEqualTo(10);
    assertWithMessage(report).that(result.wholeFileReads()).isGreaterThan(0);
    assertWithMessage(report).that(result.rangeReads()).isGreaterThan(0);
    assertWithMessage(report).that(result.walks()).isGreaterThan(0);
    assertWithMessage(report).that(result.maxLoadRss()).isGreaterThan(0);
  }

  /** Returns the checkout that contains this module, where {@code bin/jsoci-snapshotter} is. */
  private static Path checkout() {
    Path directory = Path.of(System.getProperty("user.dir")).toAbsolutePath();
    while (directory != null && !Files.exists(directory.resolve("bin/jsoci-snapshotter"))) {
      directory = directory.getParent();
    }
    assumeTrue(directory != null, "bin/jsoci-snapshotter not found above the working directory");
    return directory;
  }
}
