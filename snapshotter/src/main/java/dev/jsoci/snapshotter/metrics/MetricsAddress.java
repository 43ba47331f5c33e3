package dev.jsoci.snapshotter.metrics;

import dev.jsoci.config.MetricsConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.net.UnixDomainSocketAddress;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Turns {@code metrics_address} and {@code metrics_network} into the address the metrics endpoint
 * binds.
 *
 * <p>With {@code metrics_network = "tcp"} the address is {@code host:port}, {@code [ipv6]:port} or
 * {@code :port} (every interface), as Go's {@code net.Listen} takes it; port 0 picks a free port.
 * With {@code "unix"} it is the path of the socket file.
 */
final class MetricsAddress {
  private MetricsAddress() {}

  /**
   * Returns the socket address for {@code address} on {@code network}.
   *
   * @throws IllegalArgumentException naming the key and the value when the address does not parse
   *     or its host does not resolve
   */
  static SocketAddress parse(String address, MetricsConfig.Network network) {
    if (address.isBlank()) {
      throw invalid(address, network, "the address is empty");
    }
    return switch (network) {
      case TCP -> parseTcp(address);
      case UNIX -> parseUnix(address);
    };
  }

  private static SocketAddress parseTcp(String address) {
    int colon = address.lastIndexOf(':');
    if (colon < 0) {
      throw invalid(
          address, MetricsConfig.Network.TCP, "expected host:port, [ipv6]:port or :port");
    }
    String host = address.substring(0, colon);
    String portText = address.substring(colon + 1);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    } else if (host.contains(":")) {
      throw invalid(
          address, MetricsConfig.Network.TCP, "write an IPv6 host in brackets, [::1]:port");
    }

    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      throw invalid(address, MetricsConfig.Network.TCP, "the port is not a number");
    }
    if (port < 0 || port > 65535) {
      throw invalid(address, MetricsConfig.Network.TCP, "the port must be from 0 to 65535");
    }

    if (host.isEmpty()) {
      return new InetSocketAddress(port);
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), port);
    } catch (UnknownHostException e) {
      throw invalid(address, MetricsConfig.Network.TCP, "unknown host \"" + host + "\"");
    }
  }

  private static SocketAddress parseUnix(String address) {
    try {
      return UnixDomainSocketAddress.of(Path.of(address).toAbsolutePath().normalize());
    } catch (InvalidPathException e) {
      throw invalid(address, MetricsConfig.Network.UNIX, "not a valid path: " + e.getReason());
    }
  }

  private static IllegalArgumentException invalid(
      String address, MetricsConfig.Network network, String reason) {
    return new IllegalArgumentException(
        "invalid metrics_address \""
            + address
            + "\" for metrics_network = \""
            + network.name().toLowerCase(Locale.ROOT)
            + "\": "
            + reason);
  }
}
