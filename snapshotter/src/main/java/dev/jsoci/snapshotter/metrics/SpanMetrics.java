package dev.jsoci.snapshotter.metrics;

import dev.jsoci.fetcher.span.FetchPurpose;
import dev.jsoci.fetcher.span.SpanEngine;
import dev.jsoci.fetcher.span.SpanListener;
import dev.jsoci.fetcher.span.SpanManager;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * The span metrics: ranged fetches by purpose, the memory and disk span caches, and the fetch
 * progress of each open layer.
 *
 * <p>Data points are resolved once per purpose and cache, so an event costs one increment or one
 * observation.
 */
final class SpanMetrics implements SpanListener {
  private final DistributionDataPoint[] fetchDuration;
  private final CounterDataPoint[] fetchedBytes;
  private final CounterDataPoint[] fetchFailures;
  private final CounterDataPoint[] spansFetched;
  private final CounterDataPoint digestMismatches;
  private final DistributionDataPoint readWaitDuration;
  private final CounterDataPoint[] cacheHits;
  private final CounterDataPoint[] cacheMisses;
  private final CounterDataPoint[] cacheEvictions;
  private final PrometheusRegistry registry;

  SpanMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    Histogram duration =
        Histogram.builder()
            .name("jsoci_span_fetch_duration_seconds")
            .help(
                "Time of one ranged read of compressed layer bytes from the registry, by the"
                    + " purpose of the fetch: read, prefetch or background.")
            .labelNames("purpose")
            .classicOnly()
            .classicExponentialUpperBounds(0.001, 2, 16)
            .register(registry);
    Counter bytes =
        Counter.builder()
            .name("jsoci_span_fetched_bytes_total")
            .help("Compressed layer bytes received by span fetches, by purpose.")
            .labelNames("purpose")
            .register(registry);
    Counter failures =
        Counter.builder()
            .name("jsoci_span_fetch_failures_total")
            .help("Ranged reads of layer bytes that failed after retries, by purpose.")
            .labelNames("purpose")
            .register(registry);
    Counter spans =
        Counter.builder()
            .name("jsoci_spans_fetched_total")
            .help("Spans fetched from the registry that passed their digest check, by purpose.")
            .labelNames("purpose")
            .register(registry);
    digestMismatches =
        Counter.builder()
            .name("jsoci_span_digest_mismatches_total")
            .help("Fetched spans whose bytes did not match the digest in the zTOC.")
            .register(registry)
            .labelValues();

    readWaitDuration =
        Histogram.builder()
            .name("jsoci_span_read_wait_duration_seconds")
            .help(
                "Time a read waited for spans missing from the memory cache: loaded from disk,"
                    + " fetched by the read itself, or by a prefetch or background fetch in"
                    + " flight.")
            .classicOnly()
            .classicExponentialUpperBounds(0.0001, 2, 20)
            .register(registry)
            .labelValues();

    FetchPurpose[] purposes = FetchPurpose.values();
    fetchDuration = new DistributionDataPoint[purposes.length];
    fetchedBytes = new CounterDataPoint[purposes.length];
    fetchFailures = new CounterDataPoint[purposes.length];
    spansFetched = new CounterDataPoint[purposes.length];
    for (FetchPurpose purpose : purposes) {
      String label = purposeLabel(purpose);
      fetchDuration[purpose.ordinal()] = duration.labelValues(label);
      fetchedBytes[purpose.ordinal()] = bytes.labelValues(label);
      fetchFailures[purpose.ordinal()] = failures.labelValues(label);
      spansFetched[purpose.ordinal()] = spans.labelValues(label);
    }

    Counter hits =
        Counter.builder()
            .name("jsoci_span_cache_hits_total")
            .help("Span look-ups that found the span, by cache: memory or disk.")
            .labelNames("cache")
            .register(registry);
    Counter misses =
        Counter.builder()
            .name("jsoci_span_cache_misses_total")
            .help("Span look-ups that did not find the span, by cache: memory or disk.")
            .labelNames("cache")
            .register(registry);
    Counter evictions =
        Counter.builder()
            .name("jsoci_span_cache_evictions_total")
            .help("Spans dropped to keep a cache within its size cap, by cache.")
            .labelNames("cache")
            .register(registry);
    Cache[] caches = Cache.values();
    cacheHits = new CounterDataPoint[caches.length];
    cacheMisses = new CounterDataPoint[caches.length];
    cacheEvictions = new CounterDataPoint[caches.length];
    for (Cache cache : caches) {
      String label = cacheLabel(cache);
      cacheHits[cache.ordinal()] = hits.labelValues(label);
      cacheMisses[cache.ordinal()] = misses.labelValues(label);
      cacheEvictions[cache.ordinal()] = evictions.labelValues(label);
    }
  }

  static String purposeLabel(FetchPurpose purpose) {
    return purpose.name().toLowerCase(Locale.ROOT);
  }

  static String cacheLabel(Cache cache) {
    return cache.name().toLowerCase(Locale.ROOT);
  }

  @Override
  public void rangeFetched(FetchPurpose purpose, long bytes, long durationNanos) {
    fetchDuration[purpose.ordinal()].observe(durationNanos / 1e9);
    fetchedBytes[purpose.ordinal()].inc(bytes);
  }

  @Override
  public void rangeFailed(FetchPurpose purpose) {
    fetchFailures[purpose.ordinal()].inc();
  }

  @Override
  public void readWaited(long durationNanos) {
    readWaitDuration.observe(durationNanos / 1e9);
  }

  @Override
  public void spanFetched(FetchPurpose purpose) {
    spansFetched[purpose.ordinal()].inc();
  }

  @Override
  public void digestMismatch() {
    digestMismatches.inc();
  }

  @Override
  public void cacheLookup(Cache cache, boolean hit) {
    (hit ? cacheHits : cacheMisses)[cache.ordinal()].inc();
  }

  @Override
  public void cacheEvicted(Cache cache, int count) {
    cacheEvictions[cache.ordinal()].inc(count);
  }

  /**
   * Registers the metrics read from {@code engine} at each scrape: the size of each span cache, the
   * background fetch queue and the spans of each open layer. A layer's series disappear once it is
   * closed.
   */
  void watch(SpanEngine engine) {
    GaugeWithCallback.builder()
        .name("jsoci_background_fetch_queue_layers")
        .help("Layers queued for background fetching now.")
        .callback(callback -> callback.call(engine.backgroundQueueLength()))
        .register(registry);
    CounterWithCallback.builder()
        .name("jsoci_background_fetch_queue_evicted_total")
        .help(
            "Layers not fetched in the background because the queue was full"
                + " ([background_fetch] max_queue_size).")
        .callback(callback -> callback.call(engine.backgroundQueueEvictions()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("jsoci_span_cache_size_bytes")
        .help("Bytes held by a span cache now: inflated spans in memory, span files on disk.")
        .labelNames("cache")
        .callback(
            callback -> {
              callback.call(engine.memoryCacheSizeBytes(), cacheLabel(Cache.MEMORY));
              OptionalLong disk = engine.diskCacheSizeBytes();
              if (disk.isPresent()) {
                callback.call(disk.getAsLong(), cacheLabel(Cache.DISK));
              }
            })
        .register(registry);
    GaugeWithCallback.builder()
        .name("jsoci_layer_spans")
        .help("Spans of each lazily mounted layer, by layer digest.")
        .labelNames("layer")
        .callback(
            callback ->
                progressByLayer(engine)
                    .forEach((layer, progress) -> callback.call(progress[0], layer)))
        .register(registry);
    GaugeWithCallback.builder()
        .name("jsoci_layer_spans_ready")
        .help(
            "Spans of each lazily mounted layer that are in a cache and need no fetch, by layer"
                + " digest.")
        .labelNames("layer")
        .callback(
            callback ->
                progressByLayer(engine)
                    .forEach((layer, progress) -> callback.call(progress[1], layer)))
        .register(registry);
  }

  /**
   * Returns the span count and the ready span count of each open layer, by digest. A layer opened
   * twice, by two snapshots, shares the caches, so the larger ready count is reported once.
   */
  private static Map<String, long[]> progressByLayer(SpanEngine engine) {
    Map<String, long[]> result = new TreeMap<>();
    for (SpanManager layer : engine.openLayers()) {
      long ready = 0;
      for (int span = 0; span < layer.spanCount(); span++) {
        if (layer.isCached(span)) {
          ready++;
        }
      }
      long[] progress = result.computeIfAbsent(layer.layer().toString(), key -> new long[2]);
      progress[0] = layer.spanCount();
      progress[1] = Math.max(progress[1], ready);
    }
    return result;
  }
}
