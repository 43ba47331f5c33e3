package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's metrics endpoint without containerd: off by default, on a TCP port and on a unix
 * socket. {@link LazyPullIT} checks the values that lazy reads move.
 */
class MetricsIT {
  @TempDir Path work;

  @BeforeAll
  static void checkTools() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/curl")), "curl is not installed");
  }

  /** Returns a TCP port on loopback that nothing listens on now. */
  static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  @Test
  void defaultConfig_listensOnNoTcpPort() throws Exception {
    try (LocalDaemon daemon = LocalDaemon.start("jsoci-metrics-off-", "")) {
      assertWithMessage(daemon.log())
          .that(MetricsScrape.listeningTcpPorts(daemon.pid()))
          .isEmpty();
      assertThat(daemon.log()).doesNotContain("serving metrics");
    }
  }

  @Test
  void tcpAddress_servesMetricsOnThatPort() throws Exception {
    int port = freePort();
    String config = "metrics_address = \"127.0.0.1:" + port + "\"\n";
    try (LocalDaemon daemon = LocalDaemon.start("jsoci-metrics-tcp-", config)) {
      MetricsScrape scrape = MetricsScrape.ofPort(port);

      assertThat(MetricsScrape.listeningTcpPorts(daemon.pid())).containsExactly(port);
      assertThat(scrape.all("jvm_memory_used_bytes")).isNotEmpty();
      assertThat(scrape.value("jsoci_snapshots", "kind", "committed", "origin", "lazy"))
          .isEqualTo(0.0);
      assertThat(daemon.log()).contains("\"address\":\"127.0.0.1:" + port + "\"");
    }
  }

  @Test
  void unixSocket_servesMetricsToCurl() throws Exception {
    Path socket = work.resolve("run/metrics.sock");
    String config =
        "metrics_address = \"" + socket + "\"\nmetrics_network = \"unix\"\n";
    try (LocalDaemon daemon = LocalDaemon.start("jsoci-metrics-unix-", config)) {
      Processes.Result curl =
          Processes.start(
              List.of(
                  "curl",
                  "--silent",
                  "--show-error",
                  "--fail",
                  "--max-time",
                  "10",
                  "--unix-socket",
                  socket.toString(),
                  "http://localhost/metrics"),
              work);

      assertWithMessage("curl: " + curl.err() + daemon.log()).that(curl.status()).isEqualTo(0);
      MetricsScrape scrape = new MetricsScrape(curl.out());
      assertThat(scrape.all("jvm_threads_current")).isNotEmpty();
      assertThat(scrape.all("jsoci_snapshots")).hasSize(9);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)))
          .isEqualTo("rw-rw----");
      assertThat(MetricsScrape.listeningTcpPorts(daemon.pid())).isEmpty();

      daemon.stop();
      assertThat(Files.exists(socket)).isFalse();
    }
  }
}
