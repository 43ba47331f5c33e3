package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.oci.Digest;
import dev.jsoci.snapshotter.grpc.api.snapshots.Info;
import dev.jsoci.snapshotter.grpc.api.snapshots.Kind;
import dev.jsoci.testing.LocalRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pulls and runs an image through the jsoci-snapshotter daemon as containerd's proxy snapshotter
 * {@code jsoci}: containerd prepares, unpacks into and commits every layer through our Snapshots
 * service, runs a container on the overlay mounts we return, keeps working after the daemon
 * restarts, labels a snapshot through Update, and removes everything through Remove and Cleanup
 * when the image is deleted.
 *
 * <p>{@code ctr images pull} sends no remote-snapshot labels and the image has no SOCI index, so
 * every layer takes the ordinary path (containerd downloads and unpacks it); {@code LazyPullIT}
 * covers lazy layers. The tests run in order and share one daemon, containerd and registry.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SnapshotterContainerdIT {
  @TempDir static Path work;
  private static LocalRegistry registry;
  private static SampleImage image;
  private static LocalContainerd containerd;
  private static LocalDaemon daemon;
  private static String reference;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(Processes.isRoot(), "containerd, runc and overlay mounts need root");
    assumeTrue(LocalContainerd.isInstalled(), "containerd, ctr or runc is not installed");
    assumeTrue(LocalRegistry.isInstalled(), "docker-registry is not installed");
    assumeTrue(SampleImage.toolsInstalled(), "busybox-static, tar or gzip is not installed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed");

    image = SampleImage.build(work);
    registry = LocalRegistry.start(null);
    reference = registry.host() + "/app:v1";
    image.pushWithSkopeo(reference);

    daemon = LocalDaemon.start("jsoci-d-", "");
    containerd = LocalContainerd.start(daemon.socket());
  }

  @AfterAll
  static void stop() throws Exception {
    try (AutoCloseable registryCloser = registry;
        AutoCloseable daemonCloser = daemon;
        AutoCloseable containerdCloser = containerd) {
      // Closed in reverse order: containerd, the daemon, the registry.
    }
  }

  private static String ctr(String... args) throws Exception {
    Processes.Result result = containerd.ctr(args);
    assertWithMessage(
            "ctr "
                + String.join(" ", args)
                + ": "
                + result.err()
                + "\ndaemon log:\n"
                + daemon.log()
                + "\ncontainerd log:\n"
                + containerd.log())
        .that(result.status())
        .isEqualTo(0);
    return result.out();
  }

  private static List<String> snapshotDirectories() throws IOException {
    try (Stream<Path> entries =
        Files.list(daemon.directory().resolve("root").resolve("snapshotter").resolve("snapshots"))) {
      return entries.map(path -> path.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  @Order(1)
  void pullAndRun_throughJsoci() throws Exception {
    ctr("images", "pull", "--plain-http", "--snapshotter", "jsoci", reference);

    String message =
        ctr(
            "run",
            "--rm",
            "--snapshotter",
            "jsoci",
            reference,
            "message",
            "/bin/busybox",
            "cat",
            "/etc/message");
    String checksum =
        ctr(
            "run",
            "--rm",
            "--snapshotter",
            "jsoci",
            reference,
            "checksum",
            "/bin/busybox",
            "sha256sum",
            "/data/plain.bin");

    assertThat(message).isEqualTo(SampleImage.MESSAGE);
    assertThat(checksum)
        .startsWith(Digest.sha256Of(image.files.get("data/plain.bin")).encoded() + " ");
    // containerd removes the containers' snapshots in its garbage collection, which may not have
    // run yet, so only the committed layers are counted.
    List<Info> layers = daemon.snapshots("kind==committed");
    assertThat(layers).hasSize(3);
    assertThat(layers.stream().map(Info::getKind).distinct().toList())
        .containsExactly(Kind.COMMITTED);
    assertThat(snapshotDirectories().size()).isAtLeast(3);
  }

  @Test
  @Order(2)
  void restart_keepsSnapshots() throws Exception {
    int status = daemon.stop();
    daemon.start();
    containerd.awaitSnapshotter("jsoci");

    String message =
        ctr(
            "run",
            "--rm",
            "--snapshotter",
            "jsoci",
            reference,
            "after-restart",
            "/bin/busybox",
            "cat",
            "/etc/message");

    assertThat(status).isEqualTo(143);
    assertThat(daemon.log()).contains("jsoci-snapshotter successfully started");
    assertThat(message).isEqualTo(SampleImage.MESSAGE);
    assertThat(daemon.snapshots("kind==committed")).hasSize(3);
  }

  @Test
  @Order(3)
  void label_reachesTheDaemonThroughUpdate() throws Exception {
    String layer =
        ctr("snapshots", "--snapshotter", "jsoci", "ls")
            .lines()
            .filter(line -> line.contains("Committed"))
            .findFirst()
            .orElseThrow()
            .split("\\s+")[0];
    List<Info> before = daemon.snapshots("labels.\"containerd.io/snapshot/jsoci.test\"");

    ctr(
        "snapshots",
        "--snapshotter",
        "jsoci",
        "label",
        layer,
        "containerd.io/snapshot/jsoci.test=yes");

    List<Info> labelled = daemon.snapshots("labels.\"containerd.io/snapshot/jsoci.test\"==yes");
    assertThat(before).isEmpty();
    assertThat(labelled).hasSize(1);
    assertThat(ctr("snapshots", "--snapshotter", "jsoci", "info", layer))
        .contains("containerd.io/snapshot/jsoci.test");
  }

  @Test
  @Order(4)
  void imageRemoval_removesSnapshotsAndDirectories() throws Exception {
    ctr("images", "rm", "--sync", reference);

    assertThat(daemon.snapshots()).isEmpty();
    assertThat(snapshotDirectories()).isEmpty();
    assertThat(ctr("snapshots", "--snapshotter", "jsoci", "ls").strip().split("\n")).hasLength(1);
  }
}
