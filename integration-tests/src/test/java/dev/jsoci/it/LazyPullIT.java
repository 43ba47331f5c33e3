package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.oci.Digest;
import dev.jsoci.snapshotter.grpc.api.snapshots.Info;
import dev.jsoci.testing.LocalRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Pulls SOCI-enabled images lazily through the jsoci-snapshotter daemon as containerd's proxy
 * snapshotter {@code jsoci}, with {@code ctr-remote images rpull} (which sends the {@code
 * remote/stargz.*} labels) and with {@code jsoci rpull}, then runs containers that read from every
 * layer.
 *
 * <p>The image is {@link SampleImage}'s linux/amd64 image converted by {@code jsoci convert}: the
 * 12 MiB gzip layer and the 11 MiB plain tar layer get zTOCs and are mounted through FUSE, the 1
 * MiB busybox layer has none and is downloaded and unpacked by the daemon. The tests run in order
 * and share one daemon, containerd and registry.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LazyPullIT {
  private static final String REMOTE_LABEL = "containerd.io/snapshot/remote";
  private static final String STARGZ_DIGEST_LABEL = "containerd.io/snapshot/remote/stargz.digest";
  private static final String HAS_SOCI_INDEX_LABEL =
      "containerd.io/snapshot/remote/has.soci.index.digest";

  @TempDir static Path work;
  private static LocalRegistry registry;
  private static SampleImage image;
  private static LocalContainerd containerd;
  private static LocalDaemon daemon;
  private static String plainReference;
  private static String sociReference;
  private static int metricsPort;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(Processes.isRoot(), "containerd, runc, FUSE and overlay mounts need root");
    assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing");
    assumeTrue(LocalContainerd.isInstalled(), "containerd, ctr or runc is not installed");
    assumeTrue(
        Files.isExecutable(LocalContainerd.CTR_REMOTE),
        "ctr-remote (stargz-snapshotter) is not installed");
    assumeTrue(LocalRegistry.isInstalled(), "docker-registry is not installed");
    assumeTrue(SampleImage.toolsInstalled(), "busybox-static, tar or gzip is not installed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed");

    image = SampleImage.build(work);
    registry = LocalRegistry.start(null);
    plainReference = registry.host() + "/app:v1";
    sociReference = registry.host() + "/app-soci:v1";
    image.pushWithSkopeo(plainReference);
    Processes.Result converted =
        Processes.jsoci(work, "convert", "--plain-http", plainReference, sociReference);
    assertWithMessage("jsoci convert: " + converted.err()).that(converted.status()).isEqualTo(0);

    // A long background fetch period (one span every 4 s) keeps the layers mostly unfetched
    // while the tests run.
    metricsPort = MetricsIT.freePort();
    daemon =
        LocalDaemon.start(
            "jsoci-lazy-",
            "metrics_address = \"127.0.0.1:"
                + metricsPort
                + "\"\n[background_fetch]\n  fetch_period_msec = 4000\n");
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

  private static String logs() throws IOException {
    return "\ndaemon log:\n" + daemon.log() + "\ncontainerd log:\n" + containerd.log();
  }

  private static String ctr(String... args) throws Exception {
    Processes.Result result = containerd.ctr(args);
    assertWithMessage("ctr " + String.join(" ", args) + ": " + result.err() + logs())
        .that(result.status())
        .isEqualTo(0);
    return result.out();
  }

  private static void rpullWithCtrRemote(String reference) throws Exception {
    Processes.Result result = containerd.rpull("jsoci", reference);
    assertWithMessage("ctr-remote images rpull: " + result.err() + result.out() + logs())
        .that(result.status())
        .isEqualTo(0);
  }

  /** Runs {@code busybox ARGS} in a new container of {@code reference} and returns its output. */
  private static String run(String reference, String name, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(List.of("run", "--rm", "--snapshotter", "jsoci", reference, name));
    command.add("/bin/busybox");
    command.addAll(List.of(args));
    return ctr(command.toArray(String[]::new));
  }

  /** Returns the layer digests of the daemon's remote snapshots. */
  private static Set<String> remoteLayerDigests() throws Exception {
    Set<String> digests = new TreeSet<>();
    for (Info info : daemon.snapshots("labels.\"" + REMOTE_LABEL + "\"")) {
      digests.add(info.getLabelsOrDefault(STARGZ_DIGEST_LABEL, "(no digest label)"));
    }
    return digests;
  }

  /** Returns the FUSE mounts of jsoci under the daemon's directory, from /proc/self/mountinfo. */
  private static List<String> fuseMounts() throws IOException {
    List<String> mounts = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] fields = line.split(" ");
      String type = fields[indexAfterSeparator(fields)];
      if (fields[4].startsWith(daemon.directory().toString()) && type.equals("fuse.jsoci")) {
        mounts.add(fields[4]);
      }
    }
    return mounts;
  }

  /** Returns the index of the filesystem type: the field after the {@code -} separator. */
  private static int indexAfterSeparator(String[] fields) {
    for (int i = 6; i < fields.length; i++) {
      if (fields[i].equals("-")) {
        return i + 1;
      }
    }
    return 0;
  }

  private static String digestOf(String layer) {
    return image.layers.get(layer).digest().toString();
  }

  /** Returns the digests of the blobs in containerd's content store: the first column. */
  private static List<String> contentDigests() throws Exception {
    return ctr("content", "ls").lines().skip(1).map(line -> line.split("\\s+")[0]).toList();
  }

  @Test
  @Order(1)
  void rpull_imageWithoutIndex_downloadsEveryLayer() throws Exception {
    rpullWithCtrRemote(plainReference);

    String message = run(plainReference, "plain-message", "cat", "/etc/message");
    Set<String> remoteLayers = remoteLayerDigests();
    List<String> content = contentDigests();
    ctr("images", "rm", "--sync", plainReference);

    assertThat(message).isEqualTo(SampleImage.MESSAGE);
    assertThat(remoteLayers).isEmpty();
    assertThat(content).contains(digestOf("big"));
    assertThat(content).contains(digestOf("busybox"));
    assertThat(daemon.snapshots()).isEmpty();
    assertThat(contentDigests()).doesNotContain(digestOf("big"));
  }

  @Test
  @Order(2)
  void rpull_sociImage_mountsIndexedLayersLazily() throws Exception {
    rpullWithCtrRemote(sociReference);

    String message = run(sociReference, "lazy-message", "cat", "/etc/message");
    String bigChecksum = run(sociReference, "lazy-big", "sha256sum", "/data/big.bin");
    String plainChecksum = run(sociReference, "lazy-plain", "sha256sum", "/data/plain.bin");

    assertThat(message).isEqualTo(SampleImage.MESSAGE);
    assertThat(bigChecksum)
        .startsWith(Digest.sha256Of(image.files.get("data/big.bin")).encoded() + " ");
    assertThat(plainChecksum)
        .startsWith(Digest.sha256Of(image.files.get("data/plain.bin")).encoded() + " ");
    assertWithMessage("remote layers" + logs())
        .that(remoteLayerDigests())
        .containsExactly(digestOf("big"), digestOf("plain"));
    assertThat(fuseMounts()).hasSize(2);
    assertThat(daemon.log()).contains("\"remote-snapshot-prepared\":\"true\"");
  }

  @Test
  @Order(3)
  void rpull_sociImage_unpacksLayerWithoutZtocInTheDaemon() throws Exception {
    // The busybox layer at the bottom has no zTOC. The daemon commits it and unpacks it itself in
    // the background, so containerd 1.6 never enters its fetch path, which would also download
    // the lazy layers above it.
    List<String> content = contentDigests();
    List<Info> localSnapshots = new ArrayList<>();
    for (Info info : daemon.snapshots("labels.\"" + HAS_SOCI_INDEX_LABEL + "\"")) {
      if (!info.containsLabels(REMOTE_LABEL)) {
        localSnapshots.add(info);
      }
    }

    assertWithMessage("content store" + logs()).that(content).doesNotContain(digestOf("big"));
    assertThat(content).doesNotContain(digestOf("plain"));
    assertThat(content).doesNotContain(digestOf("busybox"));
    assertThat(localSnapshots).hasSize(1);
    assertThat(localSnapshots.get(0).getLabelsOrDefault(STARGZ_DIGEST_LABEL, ""))
        .isEqualTo(digestOf("busybox"));
    assertThat(daemon.log()).contains("committed layer; unpacking it in the snapshotter");
    assertThat(daemon.log()).contains("\"local-snapshot-prepared\":\"true\"");
    assertThat(run(sociReference, "local-busybox", "ls", "/bin/busybox")).contains("/bin/busybox");
  }

  @Test
  @Order(4)
  void metrics_showLazyReadsAndSnapshots() throws Exception {
    MetricsScrape scrape = MetricsScrape.ofPort(metricsPort);
    String context = "\nmetrics:\n" + scrape.text();

    // Reads in the containers waited for spans fetched with range requests. A read's fetch may
    // have been started by the readahead, so the purposes are summed.
    assertWithMessage(context).that(sumOf(scrape, "jsoci_spans_fetched_total")).isGreaterThan(0.0);
    assertThat(sumOf(scrape, "jsoci_span_fetched_bytes_total")).isGreaterThan(0.0);
    assertThat(sumOf(scrape, "jsoci_span_fetch_duration_seconds_count")).isGreaterThan(0.0);
    assertThat(scrape.value("jsoci_span_read_wait_duration_seconds_count")).isGreaterThan(0.0);
    assertThat(scrape.value("jsoci_fuse_operation_duration_seconds_count", "operation", "read"))
        .isGreaterThan(0.0);
    assertThat(scrape.value("jsoci_span_cache_size_bytes", "cache", "memory")).isGreaterThan(0.0);
    assertThat(
            scrape.value(
                "jsoci_registry_request_duration_seconds_count", "code", "206", "method", "GET"))
        .isGreaterThan(0.0);
    assertThat(
            scrape.value(
                "jsoci_registry_request_duration_seconds_count", "code", "200", "method", "GET"))
        .isGreaterThan(0.0);
    assertThat(scrape.value("jsoci_registry_received_bytes_total")).isGreaterThan(0.0);

    // Two layers mounted lazily, one unpacked by the daemon; the image without an index was
    // deferred to containerd.
    assertThat(scrape.value("jsoci_snapshots", "kind", "committed", "origin", "lazy"))
        .isEqualTo(2.0);
    assertThat(scrape.value("jsoci_snapshots", "kind", "committed", "origin", "unpacked"))
        .isEqualTo(1.0);
    assertThat(scrape.value("jsoci_remote_prepare_duration_seconds_count", "outcome", "lazy"))
        .isAtLeast(2.0);
    assertThat(scrape.value("jsoci_remote_prepare_duration_seconds_count", "outcome", "unpacked"))
        .isAtLeast(1.0);
    assertThat(scrape.value("jsoci_layer_mount_failures_total", "reason", "no_index"))
        .isAtLeast(1.0);
    assertThat(scrape.value("jsoci_fuse_mount_duration_seconds_count")).isAtLeast(2.0);

    // Fetch progress of each mounted layer.
    double bigSpans = scrape.value("jsoci_layer_spans", "layer", digestOf("big"));
    assertThat(bigSpans).isGreaterThan(0.0);
    assertThat(scrape.value("jsoci_layer_spans_ready", "layer", digestOf("big")))
        .isAtMost(bigSpans);
    assertThat(scrape.all("jsoci_layer_spans")).hasSize(2);
    // At most the two lazy layers wait for background fetching, and none was given up.
    assertThat(scrape.value("jsoci_background_fetch_queue_layers")).isAtMost(2.0);
    assertThat(scrape.value("jsoci_background_fetch_queue_evicted_total")).isEqualTo(0.0);
    assertThat(scrape.all("jvm_memory_used_bytes")).isNotEmpty();
  }

  private static double sumOf(MetricsScrape scrape, String name) {
    return scrape.all(name).stream().mapToDouble(MetricsScrape.Sample::value).sum();
  }

  @Test
  @Order(5)
  void jsociRpull_reportsLazyAndDownloadedLayers() throws Exception {
    ctr("images", "rm", "--sync", sociReference);
    assertThat(fuseMounts()).isEmpty();

    Processes.Result result = jsociRpull(containerd.namespace);

    assertWithMessage("jsoci rpull: " + result.err() + logs()).that(result.status()).isEqualTo(0);
    assertThat(result.out()).contains(digestOf("big") + " lazy");
    assertThat(result.out()).contains(digestOf("plain") + " lazy");
    assertThat(result.out()).contains(digestOf("busybox") + " downloaded");
    assertThat(run(sociReference, "rpull-message", "cat", "/etc/message"))
        .isEqualTo(SampleImage.MESSAGE);

    // containerd names committed remote snapshots by chain ID alone, so a pull of the same image
    // into another namespace uses the layers mounted already, and they are still lazy there.
    String otherNamespace = containerd.namespace + "-other";
    Processes.Result other = jsociRpull(otherNamespace);
    Processes.Result removed =
        containerd.ctrIn(otherNamespace, "images", "rm", "--sync", sociReference);

    assertWithMessage("jsoci rpull: " + other.err() + logs()).that(other.status()).isEqualTo(0);
    assertThat(other.out()).contains(digestOf("big") + " lazy");
    assertThat(other.out()).contains(digestOf("plain") + " lazy");
    assertWithMessage("ctr images rm: " + removed.err()).that(removed.status()).isEqualTo(0);
  }

  /** Pulls the SOCI-enabled image into {@code namespace} with {@code jsoci rpull}. */
  private static Processes.Result jsociRpull(String namespace) throws Exception {
    return Processes.jsoci(
        work,
        "rpull",
        "--address",
        containerd.socket.toString(),
        "--namespace",
        namespace,
        "--snapshotter",
        "jsoci",
        "--snapshotter-address",
        daemon.socket().toString(),
        "--plain-http",
        sociReference);
  }

  @Test
  @Order(6)
  void killAndRestart_restoresLazyLayers() throws Exception {
    daemon.kill();
    daemon.start();
    containerd.awaitSnapshotter("jsoci");

    String checksum = run(sociReference, "after-kill", "sha256sum", "/data/big.bin");

    assertThat(checksum)
        .startsWith(Digest.sha256Of(image.files.get("data/big.bin")).encoded() + " ");
    assertThat(daemon.log()).contains("restored remote snapshot");
    assertThat(fuseMounts()).hasSize(2);
  }

  @Test
  @Order(7)
  void imageRemoval_removesSnapshotsAndFuseMounts() throws Exception {
    assertThat(MetricsScrape.ofPort(metricsPort).all("jsoci_layer_spans")).hasSize(2);

    ctr("images", "rm", "--sync", sociReference);

    assertThat(daemon.snapshots()).isEmpty();
    assertThat(fuseMounts()).isEmpty();
    // The per-layer series end with the mounts.
    assertThat(MetricsScrape.ofPort(metricsPort).all("jsoci_layer_spans")).isEmpty();
  }
}
