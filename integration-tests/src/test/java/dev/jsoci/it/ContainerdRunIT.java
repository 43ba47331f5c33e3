package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.oci.Digest;
import dev.jsoci.testing.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks that images converted by {@code jsoci convert} still pull and run with containerd's own
 * overlayfs snapshotter: the SOCI index entry must not take the place of the image, and the
 * re-compressed layers of {@code --force-gzip} must still match the config's diff_ids.
 *
 * <p>The test starts Debian's containerd 1.6 through {@link LocalContainerd}, with its own
 * config, root, state, socket and namespace.
 */
class ContainerdRunIT {
  @TempDir static Path work;
  private static LocalContainerd containerd;
  private static LocalRegistry registry;
  private static SampleImage image;

  @BeforeAll
  static void startContainerd() throws Exception {
    assumeTrue(Processes.isRoot(), "containerd and runc need root");
    assumeTrue(LocalContainerd.isInstalled(), "containerd, ctr or runc is not installed");
    assumeTrue(LocalRegistry.isInstalled(), "docker-registry is not installed");
    assumeTrue(SampleImage.toolsInstalled(), "busybox-static, tar or gzip is not installed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed");

    // Build, push and convert the image.
    image = SampleImage.build(work);
    registry = LocalRegistry.start(null);
    image.pushWithSkopeo(registry.host() + "/app:v1");
    jsoci("convert", "--plain-http", registry.host() + "/app:v1", registry.host() + "/app:soci");
    jsoci(
        "convert",
        "--plain-http",
        "--force-gzip",
        registry.host() + "/app:v1",
        registry.host() + "/app:gzip");

    containerd = LocalContainerd.start(null);
  }

  @AfterAll
  static void stopContainerd() throws Exception {
    try (AutoCloseable registryCloser = registry;
        AutoCloseable containerdCloser = containerd) {
      // Closed in reverse order: containerd, the registry.
    }
  }

  private static void jsoci(String... args) throws Exception {
    Processes.Result result = Processes.jsoci(work, args);
    assertWithMessage("jsoci " + String.join(" ", args) + ": " + result.err())
        .that(result.status())
        .isEqualTo(0);
  }

  private static Processes.Result ctr(String... args) throws Exception {
    Processes.Result result = containerd.ctr(args);
    assertWithMessage("ctr " + String.join(" ", args) + ": " + result.err() + containerd.log())
        .that(result.status())
        .isEqualTo(0);
    return result;
  }

  private static String run(String reference, String container, String... command)
      throws Exception {
    ctr("images", "pull", "--plain-http", reference);
    List<String> args = new ArrayList<>(List.of("run", "--rm", reference, container));
    args.addAll(List.of(command));
    return ctr(args.toArray(new String[0])).out();
  }

  @Test
  void convertedImage_runsWithOverlayfs() throws Exception {
    String reference = registry.host() + "/app:soci";

    String message = run(reference, "message", "/bin/busybox", "cat", "/etc/message");
    String checksum = run(reference, "checksum", "/bin/busybox", "sha256sum", "/data/plain.bin");

    assertThat(message).isEqualTo(SampleImage.MESSAGE);
    assertThat(checksum)
        .startsWith(Digest.sha256Of(image.files.get("data/plain.bin")).encoded() + " ");
  }

  @Test
  void forceGzipImage_runsWithOverlayfs() throws Exception {
    String reference = registry.host() + "/app:gzip";

    String checksum =
        run(reference, "gzip-checksum", "/bin/busybox", "sha256sum", "/data/plain.bin");
    String message = run(reference, "gzip-message", "/bin/busybox", "cat", "/etc/message");

    assertThat(checksum)
        .startsWith(Digest.sha256Of(image.files.get("data/plain.bin")).encoded() + " ");
    assertThat(message).isEqualTo(SampleImage.MESSAGE);
  }
}
