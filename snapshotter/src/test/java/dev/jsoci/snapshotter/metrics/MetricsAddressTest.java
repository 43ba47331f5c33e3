package dev.jsoci.snapshotter.metrics;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.config.MetricsConfig.Network;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MetricsAddressTest {
  @Test
  void parse_hostAndPort() throws Exception {
    assertThat(MetricsAddress.parse("127.0.0.1:9100", Network.TCP))
        .isEqualTo(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 9100));
  }

  @Test
  void parse_bracketedIpv6() throws Exception {
    assertThat(MetricsAddress.parse("[::1]:9100", Network.TCP))
        .isEqualTo(new InetSocketAddress(InetAddress.getByName("::1"), 9100));
  }

  @Test
  void parse_portOnly_listensEverywhere() {
    InetSocketAddress address = (InetSocketAddress) MetricsAddress.parse(":9100", Network.TCP);

    assertThat(address.getAddress().isAnyLocalAddress()).isTrue();
    assertThat(address.getPort()).isEqualTo(9100);
  }

  @Test
  void parse_unixPath() {
    assertThat(MetricsAddress.parse("/run/jsoci/metrics.sock", Network.UNIX))
        .isEqualTo(UnixDomainSocketAddress.of(Path.of("/run/jsoci/metrics.sock")));
  }

  @Test
  void parse_invalidTcpAddresses_nameKeyAndValue() {
    String[][] cases = {
      {"localhost", "expected host:port, [ipv6]:port or :port"},
      {"127.0.0.1:http", "the port is not a number"},
      {"127.0.0.1:65536", "the port must be from 0 to 65535"},
      {"::1:9100", "write an IPv6 host in brackets, [::1]:port"},
      {" ", "the address is empty"},
    };
    for (String[] entry : cases) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> MetricsAddress.parse(entry[0], Network.TCP));

      assertThat(e)
          .hasMessageThat()
          .isEqualTo(
              "invalid metrics_address \""
                  + entry[0]
                  + "\" for metrics_network = \"tcp\": "
                  + entry[1]);
    }
  }
}
