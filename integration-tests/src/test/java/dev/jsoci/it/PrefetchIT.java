package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jsoci.oci.Digest;
import dev.jsoci.testing.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Converts {@link SampleImage} with prefetch files, pulls it lazily through the daemon with the
 * background fetch off, and checks that the daemon fetches the listed spans when it mounts the
 * layer, before any container reads them. The daemon also logs its FUSE operations, and the layers,
 * converted with {@code --optimizations xattr}, return ENOSYS for getxattr.
 */
class PrefetchIT {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir static Path work;
  private static LocalRegistry registry;
  private static LocalContainerd containerd;
  private static LocalDaemon daemon;
  private static SampleImage image;
  private static String reference;
  private static int metricsPort;
  private static Processes.Result converted;

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

    image = SampleImage.build(work, 7);
    registry = LocalRegistry.start(null);
    String plain = registry.host() + "/prefetch-source:v1";
    reference = registry.host() + "/prefetch:v1";
    image.pushWithSkopeo(plain);
    converted =
        Processes.jsoci(
            work,
            "convert",
            "--plain-http",
            "--optimizations",
            "xattr",
            "--prefetch-file",
            "/data/big.bin",
            "--prefetch-file",
            "/no/such/file",
            plain,
            reference);
    assertWithMessage("jsoci convert: " + converted.err()).that(converted.status()).isEqualTo(0);

    metricsPort = MetricsIT.freePort();
    daemon =
        LocalDaemon.start(
            "jsoci-prefetch-",
            "metrics_address = \"127.0.0.1:"
                + metricsPort
                + "\"\n[background_fetch]\n  disable = true\n[prefetch]\n  enable = true\n"
                + "[fuse]\n  log_fuse_operations = true\n");
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

  @Test
  void mount_fetchesTheListedSpansBeforeAnyRead() throws Exception {
    assertThat(converted.err())
        .contains(
            "warning: linux/amd64: prefetch file /no/such/file is in no layer with a zTOC; it is"
                + " not prefetched");

    // The index lists one prefetch artifact, for the layer with data/big.bin.
    Processes.Result info = Processes.jsoci(work, "index", "info", "--plain-http", reference);
    assertWithMessage("jsoci index info: " + info.err()).that(info.status()).isEqualTo(0);
    JsonNode json = new ObjectMapper().readTree(info.out());
    assertThat(json.path("soci_index").path("prefetch_artifacts").asInt()).isEqualTo(1);
    String bigLayer = image.layers.get("big").digest().toString();
    long listedSpans = 0;
    for (JsonNode layer : json.path("layers")) {
      JsonNode prefetch = layer.path("prefetch");
      if (layer.path("digest").asText().equals(bigLayer)) {
        assertWithMessage(info.out()).that(prefetch.isObject()).isTrue();
        for (JsonNode range : prefetch.path("spans")) {
          listedSpans += range.get(1).asLong() - range.get(0).asLong() + 1;
        }
      } else {
        assertWithMessage(info.out()).that(prefetch.isMissingNode()).isTrue();
      }
    }
    // 12 MiB of random data in 4 MiB spans.
    assertThat(listedSpans).isAtLeast(3);

    Processes.Result pulled = containerd.rpull("jsoci", reference);
    assertWithMessage("ctr-remote images rpull: " + pulled.err() + "\n" + daemon.log())
        .that(pulled.status())
        .isEqualTo(0);

    // Nothing has read the layer, and the background fetch is off: only the prefetch fetches.
    MetricsScrape scrape = awaitPrefetched(listedSpans);
    assertWithMessage(scrape.text())
        .that(scrape.value("jsoci_layer_spans_ready", "layer", bigLayer))
        .isEqualTo((double) listedSpans);
    assertThat(scrape.value("jsoci_spans_fetched_total", "purpose", "read")).isEqualTo(0.0);
    assertThat(scrape.value("jsoci_spans_fetched_total", "purpose", "background")).isEqualTo(0.0);

    // A container reads the file from the prefetched spans without fetching any.
    Processes.Result run =
        containerd.ctr(
            "run",
            "--rm",
            "--snapshotter",
            "jsoci",
            reference,
            "prefetched",
            "/bin/busybox",
            "sha256sum",
            "/data/big.bin");
    assertWithMessage("ctr run: " + run.err() + "\n" + daemon.log())
        .that(run.status())
        .isEqualTo(0);
    assertThat(run.out()).contains(Digest.sha256Of(image.files.get("data/big.bin")).encoded());
    MetricsScrape after = MetricsScrape.ofPort(metricsPort);
    assertWithMessage(after.text())
        .that(after.value("jsoci_spans_fetched_total", "purpose", "read"))
        .isEqualTo(0.0);
    assertThat(after.value("jsoci_spans_fetched_total", "purpose", "readahead")).isEqualTo(0.0);
    assertThat(after.value("jsoci_spans_fetched_total", "purpose", "prefetch"))
        .isEqualTo((double) listedSpans);

    // --optimizations xattr marked both layers: once a mount returns ENOSYS for a getxattr, the
    // kernel sends it no more getxattr requests.
    assertThat(after.value("jsoci_fuse_operation_duration_seconds_count", "operation", "getxattr"))
        .isAtMost(2.0);

    // log_fuse_operations logs each operation with its path.
    assertThat(daemon.log()).containsMatch("\"msg\":\"fuse operation\".*\"op\":\"read\"");
    assertThat(daemon.log()).containsMatch("\"op\":\"[a-z]+\",\"path\":\"/data/big.bin\"");
  }

  /** Scrapes the metrics until the prefetch has fetched {@code spans} spans, for at most WAIT. */
  private static MetricsScrape awaitPrefetched(long spans) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    MetricsScrape scrape = MetricsScrape.ofPort(metricsPort);
    while (scrape.value("jsoci_spans_fetched_total", "purpose", "prefetch") < spans
        && System.nanoTime() < deadline) {
      Thread.sleep(100);
      scrape = MetricsScrape.ofPort(metricsPort);
    }
    assertWithMessage("prefetched spans within " + WAIT + "\n" + scrape.text() + daemon.log())
        .that(scrape.value("jsoci_spans_fetched_total", "purpose", "prefetch"))
        .isEqualTo((double) spans);
    return scrape;
  }
}
