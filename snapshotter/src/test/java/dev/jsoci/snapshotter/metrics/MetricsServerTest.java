package dev.jsoci.snapshotter.metrics;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsServerTest {
  @TempDir Path directory;

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private MetricsServer server;

  @BeforeEach
  void registerCounter() {
    Counter.builder()
        .name("test_requests_total")
        .help("Requests in this test.")
        .register(registry)
        .inc(3);
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private MetricsServer startTcp() throws IOException {
    server =
        MetricsServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), registry);
    return server;
  }

  /** Sends {@code request} as is and returns the whole response. */
  private static String exchange(SocketAddress address, String request) throws IOException {
    SocketChannel channel =
        address instanceof UnixDomainSocketAddress
            ? SocketChannel.open(StandardProtocolFamily.UNIX)
            : SocketChannel.open();
    try (channel) {
      channel.connect(address);
      channel.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1)));
      ByteArrayOutputStream response = new ByteArrayOutputStream();
      ByteBuffer buffer = ByteBuffer.allocate(8192);
      while (channel.read(buffer) >= 0) {
        response.write(buffer.array(), 0, buffer.position());
        buffer.clear();
      }
      return response.toString(StandardCharsets.UTF_8);
    }
  }

  private static String get(SocketAddress address, String path, String... headers)
      throws IOException {
    return exchange(
        address,
        "GET " + path + " HTTP/1.1\r\nHost: test\r\n" + String.join("", headers) + "\r\n");
  }

  private static String bodyOf(String response) {
    return response.substring(response.indexOf("\r\n\r\n") + 4);
  }

  @Test
  void get_metrics_returnsPrometheusText() throws Exception {
    String response = get(startTcp().address(), "/metrics");

    assertThat(response).startsWith("HTTP/1.1 200 OK\r\n");
    assertThat(response).contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n");
    assertThat(response).contains("\r\nConnection: close\r\n");
    assertThat(Samples.parse(bodyOf(response)).value("test_requests_total")).hasValue(3.0);
  }

  @Test
  void get_metrics_contentLengthMatchesBody() throws Exception {
    String response = get(startTcp().address(), "/metrics");

    String lengthHeader =
        response.lines()
            .filter(line -> line.startsWith("Content-Length: "))
            .findFirst()
            .orElseThrow();
    int length = Integer.parseInt(lengthHeader.substring("Content-Length: ".length()));
    assertThat(bodyOf(response).getBytes(StandardCharsets.UTF_8)).hasLength(length);
  }

  @Test
  void get_withOpenMetricsAccept_returnsOpenMetrics() throws Exception {
    String response =
        get(
            startTcp().address(),
            "/metrics",
            "Accept: application/openmetrics-text; version=1.0.0\r\n");

    assertThat(response).contains("Content-Type: application/openmetrics-text; version=1.0.0");
    assertThat(bodyOf(response)).endsWith("# EOF\n");
  }

  @Test
  void head_metrics_sendsNoBody() throws Exception {
    String response = exchange(startTcp().address(), "HEAD /metrics HTTP/1.1\r\n\r\n");

    assertThat(response).startsWith("HTTP/1.1 200 OK\r\n");
    assertThat(bodyOf(response)).isEmpty();
  }

  @Test
  void get_otherPath_returns404() throws Exception {
    assertThat(get(startTcp().address(), "/")).startsWith("HTTP/1.1 404 Not Found\r\n");
  }

  @Test
  void post_returns405WithAllow() throws Exception {
    String response = exchange(startTcp().address(), "POST /metrics HTTP/1.1\r\n\r\n");

    assertThat(response).startsWith("HTTP/1.1 405 Method Not Allowed\r\n");
    assertThat(response).contains("\r\nAllow: GET, HEAD\r\n");
  }

  @Test
  void garbage_returns400() throws Exception {
    assertThat(exchange(startTcp().address(), "hello\r\n\r\n"))
        .startsWith("HTTP/1.1 400 Bad Request\r\n");
  }

  @Test
  void close_stopsListening() throws Exception {
    SocketAddress address = startTcp().address();

    server.close();
    server = null;

    assertThrows(ConnectException.class, () -> get(address, "/metrics"));
  }

  @Test
  void unixSocket_createsDirectoryWithMode0660() throws Exception {
    Path socket = directory.resolve("run/jsoci/metrics.sock");

    server = MetricsServer.start(UnixDomainSocketAddress.of(socket), registry);

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)))
        .isEqualTo("rw-rw----");
    String response = get(UnixDomainSocketAddress.of(socket), "/metrics");
    assertThat(Samples.parse(bodyOf(response)).value("test_requests_total")).hasValue(3.0);
  }

  @Test
  void unixSocket_removesStaleSocket() throws Exception {
    Path socket = directory.resolve("metrics.sock");
    // A socket file whose listener is gone, as a killed daemon leaves it.
    ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    stale.bind(UnixDomainSocketAddress.of(socket));
    stale.close();
    assertThat(Files.exists(socket, LinkOption.NOFOLLOW_LINKS)).isTrue();

    server = MetricsServer.start(UnixDomainSocketAddress.of(socket), registry);

    assertThat(get(UnixDomainSocketAddress.of(socket), "/metrics")).startsWith("HTTP/1.1 200");
  }

  @Test
  void unixSocket_inUse_isRejected() throws Exception {
    Path socket = directory.resolve("metrics.sock");
    try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      other.bind(UnixDomainSocketAddress.of(socket));

      IOException e =
          assertThrows(
              IOException.class,
              () -> MetricsServer.start(UnixDomainSocketAddress.of(socket), registry));

      assertThat(e).hasMessageThat().isEqualTo("another process accepts connections on " + socket);
      assertThat(Files.exists(socket, LinkOption.NOFOLLOW_LINKS)).isTrue();
    }
  }

  @Test
  void unixSocket_pathIsRegularFile_isRejected() throws Exception {
    Path file = directory.resolve("metrics.sock");
    Files.writeString(file, "keep me");

    IOException e =
        assertThrows(
            IOException.class,
            () -> MetricsServer.start(UnixDomainSocketAddress.of(file), registry));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(file + " exists and is not a socket; remove it or choose another path");
    assertThat(Files.readString(file)).isEqualTo("keep me");
  }

  @Test
  void unixSocket_close_removesSocketFile() throws Exception {
    Path socket = directory.resolve("metrics.sock");
    server = MetricsServer.start(UnixDomainSocketAddress.of(socket), registry);

    server.close();
    server = null;

    assertThat(Files.exists(socket, LinkOption.NOFOLLOW_LINKS)).isFalse();
  }
}
