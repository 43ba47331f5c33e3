package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.oci.Digest;
import dev.jsoci.testing.LocalRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks that images converted by {@code jsoci convert} still pull and run with containerd's own
 * overlayfs snapshotter: the SOCI index entry must not take the place of the image, and the
 * re-compressed layers of {@code --force-gzip} must still match the config's diff_ids.
 *
 * <p>The test starts Debian's containerd 1.6 with its own config, root, state and socket under a
 * temporary directory and uses its own namespace. containerd 1.6 still creates {@code
 * /run/containerd/runc/<namespace>} and a few empty directories there, whatever {@code state} is
 * set to. The test removes the namespace's entries, and the empty directories when it created
 * them.
 */
class ContainerdRunIT {
  private static final Path CONTAINERD = Path.of("/usr/bin/containerd");
  private static final Path CTR = Path.of("/usr/bin/ctr");
  private static final Path RUNC = Path.of("/usr/sbin/runc");
  private static final Path RUN_CONTAINERD = Path.of("/run/containerd");
  private static final long START_TIMEOUT_MILLIS = 20_000;

  @TempDir static Path work;
  private static Path containerdDirectory;
  private static Path socket;
  private static Process containerd;
  private static LocalRegistry registry;
  private static SampleImage image;
  private static boolean runDirectoryExisted;
  private static final String NAMESPACE =
      "jsoci-it-" + UUID.randomUUID().toString().substring(0, 8);

  @BeforeAll
  static void startContainerd() throws Exception {
    assumeTrue(isRoot(), "containerd and runc need root");
    assumeTrue(Files.isExecutable(CONTAINERD), "containerd is not installed");
    assumeTrue(Files.isExecutable(CTR), "ctr is not installed");
    assumeTrue(Files.isExecutable(RUNC), "runc is not installed");
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

    // A short path keeps the socket below the 108-byte limit of unix socket addresses.
    runDirectoryExisted = Files.exists(RUN_CONTAINERD);
    containerdDirectory = Files.createTempDirectory(Path.of("/tmp"), "jsoci-ctd-");
    socket = containerdDirectory.resolve("containerd.sock");
    Path config = containerdDirectory.resolve("config.toml");
    Files.writeString(
        config,
        "version = 2\n"
            + "root = \""
            + containerdDirectory.resolve("root")
            + "\"\n"
            + "state = \""
            + containerdDirectory.resolve("state")
            + "\"\n"
            + "disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"
            + "[grpc]\n  address = \""
            + socket
            + "\"\n"
            + "[ttrpc]\n  address = \""
            + socket
            + ".ttrpc\"\n"
            + "[plugins.\"io.containerd.internal.v1.opt\"]\n"
            + "  path = \""
            + containerdDirectory.resolve("opt")
            + "\"\n",
        StandardCharsets.UTF_8);
    containerd =
        new ProcessBuilder(CONTAINERD.toString(), "--config", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(containerdDirectory.resolve("containerd.log").toFile())
            .start();
    awaitContainerd();
  }

  @AfterAll
  static void stopContainerd() throws Exception {
    try {
      if (containerd != null) {
        containerd.destroy();
        if (!containerd.waitFor(10, TimeUnit.SECONDS)) {
          containerd.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
      if (containerdDirectory != null) {
        unmountUnder(containerdDirectory);
        deleteRecursively(containerdDirectory);
        cleanRunDirectory();
      }
    } finally {
      if (registry != null) {
        registry.close();
      }
    }
  }

  private static boolean isRoot() throws Exception {
    return Processes.run(List.of("id", "-u"), Path.of("/")).out().strip().equals("0");
  }

  private static void jsoci(String... args) throws Exception {
    Processes.Result result = Processes.jsoci(work, args);
    assertWithMessage("jsoci " + String.join(" ", args) + ": " + result.err())
        .that(result.status())
        .isEqualTo(0);
  }

  private static Processes.Result ctr(String... args) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(CTR.toString(), "--address", socket.toString(), "--namespace", NAMESPACE));
    command.addAll(List.of(args));
    return Processes.run(command, containerdDirectory);
  }

  private static void awaitContainerd() throws Exception {
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
    while (System.currentTimeMillis() < deadline) {
      if (!containerd.isAlive()) {
        throw new IOException(
            "containerd exited with status "
                + containerd.exitValue()
                + ": "
                + Files.readString(containerdDirectory.resolve("containerd.log")));
      }
      if (Files.exists(socket)) {
        Processes.Result version =
            Processes.start(
                List.of(CTR.toString(), "--address", socket.toString(), "version"),
                containerdDirectory);
        if (version.status() == 0) {
          return;
        }
      }
      Thread.sleep(200);
    }
    throw new IOException("containerd did not answer on " + socket + " within 20 s");
  }

  /** Unmounts every mount below {@code directory}, deepest first. */
  private static void unmountUnder(Path directory) throws Exception {
    List<String> mountPoints = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String mountPoint = unescape(line.split(" ")[4]);
      if (mountPoint.startsWith(directory.toString() + "/")) {
        mountPoints.add(mountPoint);
      }
    }
    mountPoints.sort(Comparator.comparingInt(String::length).reversed());
    for (String mountPoint : mountPoints) {
      Processes.start(List.of("umount", mountPoint), Path.of("/"));
    }
  }

  /** Decodes the octal escapes of /proc/self/mountinfo, such as {@code \040} for a space. */
  private static String unescape(String field) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && i + 3 < field.length()) {
        text.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        text.append(c);
      }
    }
    return text.toString();
  }

  /**
   * Removes what containerd wrote for this test's namespace under /run/containerd, and the empty
   * directories it made there when /run/containerd did not exist before.
   */
  private static void cleanRunDirectory() throws IOException {
    deleteRecursively(RUN_CONTAINERD.resolve("runc").resolve(NAMESPACE));
    deleteRecursively(RUN_CONTAINERD.resolve("io.containerd.runtime.v2.task").resolve(NAMESPACE));
    if (runDirectoryExisted || !Files.isDirectory(RUN_CONTAINERD)) {
      return;
    }
    for (String child : List.of("runc", "fifo", "s", "io.containerd.runtime.v2.task")) {
      deleteIfEmpty(RUN_CONTAINERD.resolve(child));
    }
    deleteIfEmpty(RUN_CONTAINERD);
  }

  private static void deleteIfEmpty(Path directory) throws IOException {
    if (!Files.isDirectory(directory)) {
      return;
    }
    try (Stream<Path> children = Files.list(directory)) {
      if (children.findAny().isEmpty()) {
        Files.delete(directory);
      }
    }
  }

  private static void deleteRecursively(Path directory) throws IOException {
    if (!Files.exists(directory)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
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
