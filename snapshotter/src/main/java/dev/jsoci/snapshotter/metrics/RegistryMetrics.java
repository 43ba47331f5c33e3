package dev.jsoci.snapshotter.metrics;

import dev.jsoci.fetcher.registry.RegistryListener;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.time.Duration;

/**
 * The registry client metrics: every HTTP request by method and status code with its latency,
 * requests that got no response, retries and received body bytes. Hosts are left out of the labels
 * because redirect targets, such as storage hosts, are not bounded.
 */
final class RegistryMetrics implements RegistryListener {
  private final Histogram requestDuration;
  private final Counter requestFailures;
  private final Counter retries;
  private final CounterDataPoint receivedBytes;

  RegistryMetrics(PrometheusRegistry registry) {
    requestDuration =
        Histogram.builder()
            .name("jsoci_registry_request_duration_seconds")
            .help(
                "Time from sending a registry request to receiving the response headers, by HTTP"
                    + " method and status code.")
            .labelNames("method", "code")
            .classicOnly()
            .classicExponentialUpperBounds(0.001, 2, 16)
            .register(registry);
    requestFailures =
        Counter.builder()
            .name("jsoci_registry_request_failures_total")
            .help("Registry requests that failed without a response, such as refused connections.")
            .labelNames("method")
            .register(registry);
    retries =
        Counter.builder()
            .name("jsoci_registry_retries_total")
            .help("Registry requests sent again after a failure or a retryable status.")
            .labelNames("method")
            .register(registry);
    receivedBytes =
        Counter.builder()
            .name("jsoci_registry_received_bytes_total")
            .help("Response body bytes read from registries: layer ranges, manifests, zTOCs.")
            .register(registry)
            .labelValues();
  }

  @Override
  public void responseReceived(
      String registry, String host, String method, int statusCode, Duration elapsed) {
    requestDuration
        .labelValues(method, Integer.toString(statusCode))
        .observe(elapsed.toNanos() / 1e9);
  }

  @Override
  public void requestFailed(String registry, String host, String method, IOException failure) {
    requestFailures.labelValues(method).inc();
  }

  @Override
  public void bytesReceived(String registry, String host, long byteCount) {
    receivedBytes.inc(byteCount);
  }

  @Override
  public void retryScheduled(String registry, String host, String method, Duration delay) {
    retries.labelValues(method).inc();
  }
}
