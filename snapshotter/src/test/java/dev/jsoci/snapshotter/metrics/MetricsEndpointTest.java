package dev.jsoci.snapshotter.metrics;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.config.InvalidConfigException;
import dev.jsoci.config.MetricsConfig;
import dev.jsoci.config.MetricsConfig.Network;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class MetricsEndpointTest {
  private static MetricsConfig config(boolean enabled, String address, Network network) {
    return new MetricsConfig(enabled, address, network, Duration.ofSeconds(60));
  }

  @Test
  void address_defaults_isEmpty() throws Exception {
    assertThat(MetricsEndpoint.address(MetricsConfig.DEFAULTS)).isEmpty();
  }

  @Test
  void address_noPrometheus_isEmpty() throws Exception {
    assertThat(MetricsEndpoint.address(config(false, "127.0.0.1:9100", Network.TCP))).isEmpty();
  }

  @Test
  void address_set_isParsed() throws Exception {
    assertThat(MetricsEndpoint.address(config(true, "127.0.0.1:9100", Network.TCP)))
        .hasValue(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 9100));
  }

  @Test
  void address_invalid_namesKeyAndValue() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () -> MetricsEndpoint.address(config(true, "127.0.0.1", Network.TCP)));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "invalid metrics_address \"127.0.0.1\" for metrics_network = \"tcp\": expected"
                + " host:port, [ipv6]:port or :port");
  }

  @Test
  void start_portInUse_namesKeyAndValue() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      String address = "127.0.0.1:" + taken.getLocalPort();
      MetricsConfig config = config(true, address, Network.TCP);
      SocketAddress socketAddress = MetricsEndpoint.address(config).orElseThrow();

      IOException e =
          assertThrows(
              IOException.class,
              () -> MetricsEndpoint.start(config, socketAddress, new DaemonMetrics()));

      assertThat(e)
          .hasMessageThat()
          .startsWith(
              "cannot serve metrics on metrics_address \""
                  + address
                  + "\" (metrics_network = \"tcp\"): ");
    }
  }

  @Test
  void describe_formatsAddresses() throws Exception {
    assertThat(
            MetricsEndpoint.describe(
                new InetSocketAddress(InetAddress.getByName("::1"), 9100)))
        .isEqualTo("[0:0:0:0:0:0:0:1]:9100");
    assertThat(
            MetricsEndpoint.describe(
                new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 9100)))
        .isEqualTo("127.0.0.1:9100");
  }
}
