package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.oci.Digest;
import dev.jsoci.snapshotter.grpc.api.snapshots.Info;
import dev.jsoci.snapshotter.grpc.api.snapshots.Kind;
import dev.jsoci.snapshotter.grpc.api.snapshots.ListSnapshotsRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.SnapshotsGrpc;
import dev.jsoci.testing.LocalRegistry;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
  private static Path daemonDirectory;
  private static Path daemonSocket;
  private static Process daemon;
  private static int daemonStarts;
  private static String reference;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(isRoot(), "containerd, runc and overlay mounts need root");
    assumeTrue(LocalContainerd.isInstalled(), "containerd, ctr or runc is not installed");
    assumeTrue(LocalRegistry.isInstalled(), "docker-registry is not installed");
    assumeTrue(SampleImage.toolsInstalled(), "busybox-static, tar or gzip is not installed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed");

    image = SampleImage.build(work);
    registry = LocalRegistry.start(null);
    reference = registry.host() + "/app:v1";
    image.pushWithSkopeo(reference);

    daemonDirectory = Files.createTempDirectory(Path.of("/tmp"), "jsoci-d-");
    daemonSocket = daemonDirectory.resolve("run").resolve("jsoci.sock");
    Files.writeString(daemonDirectory.resolve("config.toml"), "");
    startDaemon();
    containerd = LocalContainerd.start(daemonSocket);
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (containerd != null) {
        containerd.close();
      }
    } finally {
      try {
        stopDaemon();
        if (daemonDirectory != null) {
          LocalContainerd.unmountUnder(daemonDirectory);
          LocalContainerd.deleteRecursively(daemonDirectory);
        }
      } finally {
        if (registry != null) {
          registry.close();
        }
      }
    }
  }

  private static boolean isRoot() throws Exception {
    return Processes.run(List.of("id", "-u"), Path.of("/")).out().strip().equals("0");
  }

  private static List<String> daemonCommand(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.jsoci.snapshotter.Daemon");
    command.addAll(List.of(args));
    return command;
  }

  /** Starts the daemon and waits until a call to it succeeds. */
  private static void startDaemon() throws Exception {
    daemonStarts++;
    daemon =
        new ProcessBuilder(
                daemonCommand(
                    "--root", daemonDirectory.resolve("root").toString(),
                    "--address", daemonSocket.toString(),
                    "--config", daemonDirectory.resolve("config.toml").toString(),
                    "--log-level", "debug"))
            .redirectErrorStream(true)
            .redirectOutput(daemonDirectory.resolve("daemon-" + daemonStarts + ".log").toFile())
            .start();
    Processes.Result check =
        Processes.start(
            daemonCommand("--check", "--check-timeout", "30", "--address", daemonSocket.toString()),
            daemonDirectory);
    assertWithMessage("jsoci-snapshotter --check: " + check.err() + daemonLog())
        .that(check.status())
        .isEqualTo(0);
  }

  /** Stops the daemon with SIGTERM and returns its exit status. */
  private static int stopDaemon() throws Exception {
    if (daemon == null) {
      return -1;
    }
    daemon.destroy();
    if (!daemon.waitFor(20, TimeUnit.SECONDS)) {
      daemon.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    int status = daemon.exitValue();
    daemon = null;
    return status;
  }

  private static String daemonLog() throws IOException {
    Path log = daemonDirectory.resolve("daemon-" + daemonStarts + ".log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  private static String ctr(String... args) throws Exception {
    Processes.Result result = containerd.ctr(args);
    assertWithMessage(
            "ctr "
                + String.join(" ", args)
                + ": "
                + result.err()
                + "\ndaemon log:\n"
                + daemonLog()
                + "\ncontainerd log:\n"
                + containerd.log())
        .that(result.status())
        .isEqualTo(0);
    return result.out();
  }

  /** Lists the snapshots that the daemon stores, by calling it directly. */
  private static List<Info> daemonSnapshots(String... filters) throws Exception {
    ManagedChannel channel =
        Grpc.newChannelBuilder("unix://" + daemonSocket, InsecureChannelCredentials.create())
            .build();
    try {
      List<Info> infos = new ArrayList<>();
      SnapshotsGrpc.newBlockingStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .list(ListSnapshotsRequest.newBuilder().addAllFilters(List.of(filters)).build())
          .forEachRemaining(response -> infos.addAll(response.getInfoList()));
      return infos;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /**
   * Waits until containerd reaches the restarted daemon. containerd's gRPC connection to a proxy
   * snapshotter backs off for up to 3 s after failed reconnects, and its calls fail with
   * UNAVAILABLE meanwhile.
   */
  private static void awaitContainerdReconnect() throws Exception {
    long deadline = System.currentTimeMillis() + 15_000;
    Processes.Result result = containerd.ctr("snapshots", "--snapshotter", "jsoci", "ls");
    while (result.status() != 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(250);
      result = containerd.ctr("snapshots", "--snapshotter", "jsoci", "ls");
    }
    assertWithMessage("containerd did not reach the restarted daemon: " + result.err())
        .that(result.status())
        .isEqualTo(0);
  }

  private static List<String> snapshotDirectories() throws IOException {
    try (Stream<Path> entries =
        Files.list(daemonDirectory.resolve("root").resolve("snapshotter").resolve("snapshots"))) {
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
    List<Info> layers = daemonSnapshots("kind==committed");
    assertThat(layers).hasSize(3);
    assertThat(layers.stream().map(Info::getKind).distinct().toList())
        .containsExactly(Kind.COMMITTED);
    assertThat(snapshotDirectories().size()).isAtLeast(3);
  }

  @Test
  @Order(2)
  void restart_keepsSnapshots() throws Exception {
    int status = stopDaemon();
    startDaemon();
    awaitContainerdReconnect();

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
    assertThat(daemonLog()).contains("jsoci-snapshotter successfully started");
    assertThat(message).isEqualTo(SampleImage.MESSAGE);
    assertThat(daemonSnapshots("kind==committed")).hasSize(3);
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
    List<Info> before = daemonSnapshots("labels.\"containerd.io/snapshot/jsoci.test\"");

    ctr(
        "snapshots",
        "--snapshotter",
        "jsoci",
        "label",
        layer,
        "containerd.io/snapshot/jsoci.test=yes");

    List<Info> labelled = daemonSnapshots("labels.\"containerd.io/snapshot/jsoci.test\"==yes");
    assertThat(before).isEmpty();
    assertThat(labelled).hasSize(1);
    assertThat(ctr("snapshots", "--snapshotter", "jsoci", "info", layer))
        .contains("containerd.io/snapshot/jsoci.test");
  }

  @Test
  @Order(4)
  void imageRemoval_removesSnapshotsAndDirectories() throws Exception {
    ctr("images", "rm", "--sync", reference);

    assertThat(daemonSnapshots()).isEmpty();
    assertThat(snapshotDirectories()).isEmpty();
    assertThat(ctr("snapshots", "--snapshotter", "jsoci", "ls").strip().split("\n")).hasLength(1);
  }
}
