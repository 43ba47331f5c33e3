package dev.jsoci.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Metrics settings, read from the top-level keys {@code no_prometheus}, {@code metrics_address},
 * {@code metrics_network} and {@code fuse_metrics_emit_wait_duration_sec}.
 *
 * @param enabled false when {@code no_prometheus = true}
 * @param address listen address; empty for no endpoint
 * @param fuseOperationsEmitWait delay after an image's first mount before its FUSE operation counts
 *     are reported
 */
public record MetricsConfig(
    boolean enabled, String address, Network network, Duration fuseOperationsEmitWait) {

  public static final MetricsConfig DEFAULTS =
      new MetricsConfig(true, "", Network.TCP, Duration.ofSeconds(60));

  public MetricsConfig {
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(network, "network");
    Objects.requireNonNull(fuseOperationsEmitWait, "fuseOperationsEmitWait");
  }

  /** The kind of socket the metrics endpoint listens on. */
  public enum Network {
    TCP,
    UNIX
  }
}
