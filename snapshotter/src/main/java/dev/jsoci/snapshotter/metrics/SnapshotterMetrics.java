package dev.jsoci.snapshotter.metrics;

import dev.jsoci.snapshotter.SnapshotOrigin;
import dev.jsoci.snapshotter.Snapshotter;
import dev.jsoci.snapshotter.SnapshotterListener;
import dev.jsoci.snapshotter.errdefs.SnapshotException;
import dev.jsoci.snapshotter.metadata.Kind;
import dev.jsoci.snapshotter.metadata.SnapshotInfo;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The snapshotter metrics: how remote-snapshot {@code Prepare} calls ended and how long they took,
 * failed layer mounts by reason, and the snapshots in the database by kind and origin.
 */
final class SnapshotterMetrics implements SnapshotterListener {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotterMetrics.class);

  private final PrometheusRegistry registry;
  private final Histogram prepareDuration;
  private final Counter mountFailures;

  SnapshotterMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    prepareDuration =
        Histogram.builder()
            .name("jsoci_remote_prepare_duration_seconds")
            .help(
                "Time of a Prepare that names an image layer, by outcome: lazy (mounted through"
                    + " FUSE), unpacked (by the snapshotter) or deferred (to containerd).")
            .labelNames("outcome")
            .classicOnly()
            .classicExponentialUpperBounds(0.01, 2, 14)
            .register(registry);
    mountFailures =
        Counter.builder()
            .name("jsoci_layer_mount_failures_total")
            .help(
                "Remote layer mounts that failed, by reason: no_index, no_ztoc or error.")
            .labelNames("reason")
            .register(registry);
    for (PrepareOutcome outcome : PrepareOutcome.values()) {
      prepareDuration.labelValues(label(outcome));
    }
    for (MountFailure failure : MountFailure.values()) {
      mountFailures.labelValues(label(failure));
    }
  }

  private static String label(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }

  @Override
  public void remotePrepared(PrepareOutcome outcome, long durationNanos) {
    prepareDuration.labelValues(label(outcome)).observe(durationNanos / 1e9);
  }

  @Override
  public void layerMountFailed(MountFailure failure) {
    mountFailures.labelValues(label(failure)).inc();
  }

  /**
   * Registers the gauge of snapshots by kind and origin, read from {@code snapshotter}'s database
   * at each scrape. Every combination is reported, zeros included, so the series exist before
   * the first snapshot.
   */
  void watch(Snapshotter snapshotter) {
    GaugeWithCallback.builder()
        .name("jsoci_snapshots")
        .help(
            "Snapshots in the database, by kind (active, committed, view) and origin (lazy,"
                + " unpacked, ordinary).")
        .labelNames("kind", "origin")
        .callback(
            callback -> {
              Map<Kind, Map<SnapshotOrigin, Long>> counts = count(snapshotter);
              if (counts == null) {
                return;
              }
              counts.forEach(
                  (kind, byOrigin) ->
                      byOrigin.forEach(
                          (origin, count) ->
                              callback.call(count, kind.filterName(), label(origin))));
            })
        .register(registry);
  }

  /** Returns the snapshot counts, or null when the database cannot be read now. */
  private static @Nullable Map<Kind, Map<SnapshotOrigin, Long>> count(Snapshotter snapshotter) {
    List<SnapshotInfo> snapshots;
    try {
      snapshots = snapshotter.list(List.of());
    } catch (IOException | SnapshotException | RuntimeException e) {
      LOG.atWarn()
          .addKeyValue("error", e.getMessage())
          .log("cannot count snapshots for the metrics endpoint");
      return null;
    }
    Map<Kind, Map<SnapshotOrigin, Long>> counts = new EnumMap<>(Kind.class);
    for (Kind kind : Kind.values()) {
      Map<SnapshotOrigin, Long> byOrigin = new EnumMap<>(SnapshotOrigin.class);
      for (SnapshotOrigin origin : SnapshotOrigin.values()) {
        byOrigin.put(origin, 0L);
      }
      counts.put(kind, byOrigin);
    }
    for (SnapshotInfo info : snapshots) {
      counts.get(info.kind()).merge(SnapshotOrigin.of(info), 1L, Long::sum);
    }
    return counts;
  }
}
