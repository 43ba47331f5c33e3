package dev.jsoci.snapshotter.metrics;

import static com.google.common.truth.Truth.assertThat;

import dev.jsoci.fetcher.span.FetchPurpose;
import dev.jsoci.fetcher.span.SpanListener;
import dev.jsoci.fs.Errno;
import dev.jsoci.snapshotter.SnapshotterListener;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DaemonMetricsTest {
  private final DaemonMetrics metrics = new DaemonMetrics();

  private Samples scrape() throws IOException {
    return Samples.scrape(metrics.registry());
  }

  @Test
  void registry_includesJvmCollectors() throws Exception {
    Samples samples = scrape();

    assertThat(samples.all("jvm_memory_used_bytes")).isNotEmpty();
    assertThat(samples.all("jvm_threads_current")).isNotEmpty();
    assertThat(samples.all("jvm_gc_collection_seconds_count")).isNotEmpty();
  }

  @Test
  void fuseOperation_countsLatencyAndErrors() throws Exception {
    metrics.fileSystemListener().operationCompleted("read", 2_000_000, null);
    metrics.fileSystemListener().operationCompleted("read", 4_000_000, null);
    metrics.fileSystemListener().operationCompleted("getattr", 1_000, Errno.ENOENT);
    metrics.fileSystemListener().operationCompleted("read", 1_000, Errno.EIO);

    Samples samples = scrape();

    assertThat(samples.value("jsoci_fuse_operation_duration_seconds_count", "operation", "read"))
        .hasValue(3.0);
    assertThat(samples.value("jsoci_fuse_operation_duration_seconds_sum", "operation", "read")
            .getAsDouble())
        .isWithin(1e-9)
        .of(0.006001);
    assertThat(
            samples.value(
                "jsoci_fuse_operation_errors_total", "operation", "getattr", "errno", "ENOENT"))
        .hasValue(1.0);
    assertThat(
            samples.value("jsoci_fuse_operation_errors_total", "operation", "read", "errno", "EIO"))
        .hasValue(1.0);
  }

  @Test
  void fuseMount_countsDurationAndFailures() throws Exception {
    metrics.fileSystemListener().mounted(300_000_000);
    metrics.fileSystemListener().mountFailed();

    Samples samples = scrape();

    assertThat(samples.value("jsoci_fuse_mount_duration_seconds_count")).hasValue(1.0);
    assertThat(samples.value("jsoci_fuse_mount_duration_seconds_bucket", "le", "0.16"))
        .hasValue(0.0);
    assertThat(samples.value("jsoci_fuse_mount_duration_seconds_bucket", "le", "0.32"))
        .hasValue(1.0);
    assertThat(samples.value("jsoci_fuse_mount_failures_total")).hasValue(1.0);
  }

  @Test
  void spanFetches_areCountedByPurpose() throws Exception {
    SpanListener listener = metrics.spanListener();
    listener.rangeFetched(FetchPurpose.READ, 1000, 5_000_000);
    listener.rangeFetched(FetchPurpose.BACKGROUND, 300, 1_000_000);
    listener.spanFetched(FetchPurpose.READ);
    listener.spanFetched(FetchPurpose.READ);
    listener.rangeFailed(FetchPurpose.PREFETCH);
    listener.digestMismatch();
    listener.readWaited(20_000_000);

    Samples samples = scrape();

    assertThat(samples.value("jsoci_span_fetched_bytes_total", "purpose", "read")).hasValue(1000.0);
    assertThat(samples.value("jsoci_span_fetched_bytes_total", "purpose", "background"))
        .hasValue(300.0);
    assertThat(samples.value("jsoci_span_fetch_duration_seconds_count", "purpose", "read"))
        .hasValue(1.0);
    assertThat(samples.value("jsoci_spans_fetched_total", "purpose", "read")).hasValue(2.0);
    assertThat(samples.value("jsoci_spans_fetched_total", "purpose", "prefetch")).hasValue(0.0);
    assertThat(samples.value("jsoci_span_fetch_failures_total", "purpose", "prefetch"))
        .hasValue(1.0);
    assertThat(samples.value("jsoci_span_digest_mismatches_total")).hasValue(1.0);
    assertThat(samples.value("jsoci_span_read_wait_duration_seconds_count")).hasValue(1.0);
  }

  @Test
  void spanCaches_countHitsMissesAndEvictionsSeparately() throws Exception {
    SpanListener listener = metrics.spanListener();
    listener.cacheLookup(SpanListener.Cache.MEMORY, true);
    listener.cacheLookup(SpanListener.Cache.MEMORY, false);
    listener.cacheLookup(SpanListener.Cache.MEMORY, false);
    listener.cacheLookup(SpanListener.Cache.DISK, true);
    listener.cacheEvicted(SpanListener.Cache.DISK, 4);

    Samples samples = scrape();

    assertThat(samples.value("jsoci_span_cache_hits_total", "cache", "memory")).hasValue(1.0);
    assertThat(samples.value("jsoci_span_cache_misses_total", "cache", "memory")).hasValue(2.0);
    assertThat(samples.value("jsoci_span_cache_hits_total", "cache", "disk")).hasValue(1.0);
    assertThat(samples.value("jsoci_span_cache_misses_total", "cache", "disk")).hasValue(0.0);
    assertThat(samples.value("jsoci_span_cache_evictions_total", "cache", "disk")).hasValue(4.0);
    assertThat(samples.value("jsoci_span_cache_evictions_total", "cache", "memory"))
        .hasValue(0.0);
  }

  @Test
  void registryRequests_areCountedByMethodAndCode() throws Exception {
    var listener = metrics.registryListener();
    listener.responseReceived("r.example", "r.example", "GET", 206, Duration.ofMillis(3));
    listener.responseReceived("r.example", "r.example", "GET", 206, Duration.ofMillis(5));
    listener.responseReceived("r.example", "r.example", "HEAD", 404, Duration.ofMillis(1));
    listener.requestFailed("r.example", "r.example", "GET", new ConnectException("refused"));
    listener.retryScheduled("r.example", "r.example", "GET", Duration.ofMillis(30));
    listener.bytesReceived("r.example", "r.example", 4096);

    Samples samples = scrape();

    assertThat(
            samples.value(
                "jsoci_registry_request_duration_seconds_count", "method", "GET", "code", "206"))
        .hasValue(2.0);
    assertThat(
            samples.value(
                "jsoci_registry_request_duration_seconds_count", "method", "HEAD", "code", "404"))
        .hasValue(1.0);
    assertThat(samples.value("jsoci_registry_request_failures_total", "method", "GET"))
        .hasValue(1.0);
    assertThat(samples.value("jsoci_registry_retries_total", "method", "GET")).hasValue(1.0);
    assertThat(samples.value("jsoci_registry_received_bytes_total")).hasValue(4096.0);
  }

  @Test
  void remotePrepare_countsOutcomesAndMountFailures() throws Exception {
    SnapshotterListener listener = metrics.snapshotterListener();
    listener.remotePrepared(SnapshotterListener.PrepareOutcome.LAZY, 50_000_000);
    listener.remotePrepared(SnapshotterListener.PrepareOutcome.DEFERRED, 1_000_000);
    listener.layerMountFailed(SnapshotterListener.MountFailure.NO_INDEX);

    Samples samples = scrape();

    assertThat(samples.value("jsoci_remote_prepare_duration_seconds_count", "outcome", "lazy"))
        .hasValue(1.0);
    assertThat(samples.value("jsoci_remote_prepare_duration_seconds_count", "outcome", "deferred"))
        .hasValue(1.0);
    assertThat(samples.value("jsoci_remote_prepare_duration_seconds_count", "outcome", "unpacked"))
        .hasValue(0.0);
    assertThat(samples.value("jsoci_layer_mount_failures_total", "reason", "no_index"))
        .hasValue(1.0);
    assertThat(samples.value("jsoci_layer_mount_failures_total", "reason", "error"))
        .hasValue(0.0);
  }
}
