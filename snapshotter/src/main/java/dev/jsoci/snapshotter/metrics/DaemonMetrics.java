package dev.jsoci.snapshotter.metrics;

import dev.jsoci.fetcher.registry.RegistryListener;
import dev.jsoci.fetcher.span.SpanEngine;
import dev.jsoci.fetcher.span.SpanListener;
import dev.jsoci.fs.FileSystemListener;
import dev.jsoci.snapshotter.Snapshotter;
import dev.jsoci.snapshotter.SnapshotterListener;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The daemon's metrics registry with the JVM collectors of the Prometheus client, and the
 * listeners that the file system, span engine, registry client and snapshotter report to.
 *
 * <p>Listeners are created with the registry; gauges that read live objects are added by {@link
 * #watch(SpanEngine)} and {@link #watch(Snapshotter)} once those objects exist. Thread-safe.
 */
public final class DaemonMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final FileSystemMetrics fileSystem;
  private final SpanMetrics spans;
  private final RegistryMetrics registryClient;
  private final SnapshotterMetrics snapshotter;

  public DaemonMetrics() {
    JvmMetrics.builder().register(registry);
    fileSystem = new FileSystemMetrics(registry);
    spans = new SpanMetrics(registry);
    registryClient = new RegistryMetrics(registry);
    snapshotter = new SnapshotterMetrics(registry);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  public FileSystemListener fileSystemListener() {
    return fileSystem;
  }

  public SpanListener spanListener() {
    return spans;
  }

  public RegistryListener registryListener() {
    return registryClient;
  }

  public SnapshotterListener snapshotterListener() {
    return snapshotter;
  }

  /** Adds the gauges read from {@code engine}: cache sizes and per-layer span progress. */
  public void watch(SpanEngine engine) {
    spans.watch(engine);
  }

  /** Adds the gauge of snapshots by kind and origin, read from {@code snapshotter}. */
  public void watch(Snapshotter snapshotter) {
    this.snapshotter.watch(snapshotter);
  }
}
