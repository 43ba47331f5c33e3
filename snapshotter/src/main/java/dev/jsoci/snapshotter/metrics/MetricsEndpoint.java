package dev.jsoci.snapshotter.metrics;

import dev.jsoci.config.InvalidConfigException;
import dev.jsoci.config.MetricsConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the daemon's metrics endpoint as {@code config.toml} sets it. */
public final class MetricsEndpoint {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsEndpoint.class);

  private MetricsEndpoint() {}

  /**
   * Returns the address to serve metrics on, or empty when {@code metrics_address} is empty or
   * {@code no_prometheus = true}.
   *
   * @throws InvalidConfigException naming {@code metrics_address} and its value when the address
   *     does not parse
   */
  public static Optional<SocketAddress> address(MetricsConfig config)
      throws InvalidConfigException {
    if (!config.enabled() || config.address().isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(MetricsAddress.parse(config.address(), config.network()));
    } catch (IllegalArgumentException e) {
      throw new InvalidConfigException(e.getMessage());
    }
  }

  /**
   * Serves {@code metrics} at {@code address}, which {@link #address} returned for {@code config}.
   *
   * @throws IOException naming {@code metrics_address} and its value when the endpoint cannot
   *     listen there
   */
  public static MetricsServer start(
      MetricsConfig config, SocketAddress address, DaemonMetrics metrics) throws IOException {
    MetricsServer server;
    try {
      server = MetricsServer.start(address, metrics.registry());
    } catch (IOException e) {
      throw new IOException(
          "cannot serve metrics on metrics_address \""
              + config.address()
              + "\" (metrics_network = \""
              + config.network().name().toLowerCase(Locale.ROOT)
              + "\"): "
              + e.getMessage(),
          e);
    }
    LOG.atInfo()
        .addKeyValue("address", describe(server.address()))
        .log("serving metrics at " + MetricsServer.PATH);
    return server;
  }

  /** Returns {@code host:port} for a TCP address and the socket path for a unix one. */
  static String describe(SocketAddress address) {
    if (address instanceof InetSocketAddress inet) {
      String host = inet.getAddress().getHostAddress();
      return (host.contains(":") ? "[" + host + "]" : host) + ":" + inet.getPort();
    }
    if (address instanceof UnixDomainSocketAddress unix) {
      return unix.getPath().toString();
    }
    return address.toString();
  }
}
