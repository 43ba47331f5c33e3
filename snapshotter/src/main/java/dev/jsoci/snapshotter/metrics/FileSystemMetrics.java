package dev.jsoci.snapshotter.metrics;

import dev.jsoci.fs.Errno;
import dev.jsoci.fs.FileSystemListener;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/** The FUSE metrics: operation latency and errors of every mounted layer, and mount latency. */
final class FileSystemMetrics implements FileSystemListener {
  private final Histogram operationDuration;
  private final Counter operationErrors;
  private final Histogram mountDuration;
  private final Counter mountFailures;

  /** The data point of each operation name, so a request costs no label look-up. */
  private final Map<String, DistributionDataPoint> durationByOperation = new ConcurrentHashMap<>();

  FileSystemMetrics(PrometheusRegistry registry) {
    operationDuration =
        Histogram.builder()
            .name("jsoci_fuse_operation_duration_seconds")
            .help("Time to serve a FUSE operation, by libfuse callback name.")
            .labelNames("operation")
            .classicOnly()
            .classicExponentialUpperBounds(0.00001, 4, 12)
            .register(registry);
    operationErrors =
        Counter.builder()
            .name("jsoci_fuse_operation_errors_total")
            .help("FUSE operations that returned an error, by callback name and errno name.")
            .labelNames("operation", "errno")
            .register(registry);
    mountDuration =
        Histogram.builder()
            .name("jsoci_fuse_mount_duration_seconds")
            .help("Time from starting a layer's FUSE mount until it serves requests.")
            .classicOnly()
            .classicExponentialUpperBounds(0.01, 2, 12)
            .register(registry);
    mountFailures =
        Counter.builder()
            .name("jsoci_fuse_mount_failures_total")
            .help("Layer FUSE mounts that failed or timed out.")
            .register(registry);
  }

  @Override
  public void operationCompleted(String operation, long durationNanos, @Nullable Errno error) {
    durationByOperation
        .computeIfAbsent(operation, name -> operationDuration.labelValues(name))
        .observe(durationNanos / 1e9);
    if (error != null) {
      operationErrors.labelValues(operation, error.name()).inc();
    }
  }

  @Override
  public void mounted(long durationNanos) {
    mountDuration.observe(durationNanos / 1e9);
  }

  @Override
  public void mountFailed() {
    mountFailures.inc();
  }
}
