package dev.jsoci.fetcher.span;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.testing.RandomLayer;
import dev.jsoci.ztoc.Span;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The events a {@link SpanEngine} reports to its {@link SpanListener} while layers are read. */
class SpanListenerTest {
  private static RandomLayer layer;

  @TempDir Path directory;

  private final List<AutoCloseable> toClose = new ArrayList<>();

  /** Counts each event under a key such as {@code rangeFetched/READ} or {@code hit/MEMORY}. */
  private static final class CountingListener implements SpanListener {
    final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

    void add(String key, long amount) {
      counts.computeIfAbsent(key, unused -> new LongAdder()).add(amount);
    }

    long count(String key) {
      LongAdder adder = counts.get(key);
      return adder == null ? 0 : adder.sum();
    }

    @Override
    public void rangeFetched(FetchPurpose purpose, long bytes, long durationNanos) {
      add("rangeFetched/" + purpose, 1);
      add("bytes/" + purpose, bytes);
      if (durationNanos < 0) {
        add("negativeDuration", 1);
      }
    }

    @Override
    public void readWaited(long durationNanos) {
      add("readWaited", 1);
    }

    @Override
    public void rangeFailed(FetchPurpose purpose) {
      add("rangeFailed/" + purpose, 1);
    }

    @Override
    public void spanFetched(FetchPurpose purpose) {
      add("spanFetched/" + purpose, 1);
    }

    @Override
    public void cacheLookup(Cache cache, boolean hit) {
      add((hit ? "hit/" : "miss/") + cache, 1);
    }

    @Override
    public void cacheEvicted(Cache cache, int count) {
      add("evicted/" + cache, count);
    }
  }

  @BeforeAll
  static void buildLayer() {
    layer = RandomLayer.gzip(1, 40, 96 * 1024);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable closeable : toClose) {
      closeable.close();
    }
  }

  private SpanManager open(
      SpanOptions.Builder options, SpanListener listener, BlobRangeSource source)
      throws IOException {
    SpanEngine engine = SpanEngine.start(options.backgroundFetch(false).build(), listener);
    toClose.add(engine);
    return engine.openLayer(layer.digest(), layer.ztoc(), source);
  }

  private static void readSpan(SpanManager manager, int id) throws IOException {
    Span span = layer.span(id);
    manager.read((span.uncompressedStart() + span.uncompressedEnd()) / 2, ByteBuffer.allocate(16));
  }

  @Test
  void read_coldSpan_reportsFetchAndMiss() throws Exception {
    CountingListener listener = new CountingListener();
    SpanManager manager =
        open(SpanOptions.builder(), listener, new RecordingSource(layer.blob()));

    readSpan(manager, 3);

    assertThat(listener.count("rangeFetched/READ")).isEqualTo(1);
    assertThat(listener.count("bytes/READ")).isEqualTo(layer.span(3).compressedLength());
    assertThat(listener.count("spanFetched/READ")).isEqualTo(1);
    assertThat(listener.count("miss/MEMORY")).isEqualTo(1);
    assertThat(listener.count("hit/MEMORY")).isEqualTo(0);
    assertThat(listener.count("readWaited")).isEqualTo(1);
    assertThat(listener.count("negativeDuration")).isEqualTo(0);
  }

  @Test
  void read_cachedSpan_reportsMemoryHitOnly() throws Exception {
    CountingListener listener = new CountingListener();
    SpanManager manager =
        open(SpanOptions.builder(), listener, new RecordingSource(layer.blob()));
    readSpan(manager, 3);

    readSpan(manager, 3);

    assertThat(listener.count("hit/MEMORY")).isEqualTo(1);
    assertThat(listener.count("rangeFetched/READ")).isEqualTo(1);
    assertThat(listener.count("readWaited")).isEqualTo(1);
  }

  @Test
  void read_diskCachedSpan_reportsDiskHit() throws Exception {
    Path cache = directory.resolve("spans");
    CountingListener first = new CountingListener();
    readSpan(
        open(
            SpanOptions.builder().diskCacheDirectory(cache),
            first,
            new RecordingSource(layer.blob())),
        3);
    CountingListener second = new CountingListener();

    readSpan(
        open(
            SpanOptions.builder().diskCacheDirectory(cache),
            second,
            new RecordingSource(layer.blob())),
        3);

    assertThat(first.count("miss/DISK")).isEqualTo(1);
    assertThat(second.count("hit/DISK")).isEqualTo(1);
    assertThat(second.count("rangeFetched/READ")).isEqualTo(0);
  }

  @Test
  void read_sourceFails_reportsFailedRange() throws Exception {
    CountingListener listener = new CountingListener();
    RecordingSource source = new RecordingSource(layer.blob());
    source.fault(
        (request, bytes) -> {
          throw new IOException("connection reset");
        });
    SpanManager manager = open(SpanOptions.builder(), listener, source);

    assertThrows(IOException.class, () -> readSpan(manager, 3));

    assertThat(listener.count("rangeFailed/READ")).isEqualTo(1);
    assertThat(listener.count("rangeFetched/READ")).isEqualTo(0);
  }

  @Test
  void memoryCacheOverCap_reportsEvictions() throws Exception {
    CountingListener listener = new CountingListener();
    long oneSpan = layer.span(3).uncompressedLength() + MemorySpanCache.ENTRY_OVERHEAD_BYTES;
    SpanManager manager =
        open(
            SpanOptions.builder().memoryCacheBytes(oneSpan),
            listener,
            new RecordingSource(layer.blob()));
    SpanEngine engine = (SpanEngine) toClose.get(0);

    for (int id = 3; id < 8; id++) {
      readSpan(manager, id);
    }
    // Runs Caffeine's pending maintenance, evictions included, on this thread.
    engine.memoryCacheSizeBytes();

    assertThat(listener.count("evicted/MEMORY")).isAtLeast(1);
  }

  @Test
  void diskCacheOverCap_reportsEvictions() throws Exception {
    CountingListener listener = new CountingListener();
    long twoSpans =
        2L * DiskSpanCache.HEADER_BYTES
            + layer.span(3).compressedLength()
            + layer.span(4).compressedLength();
    SpanManager manager =
        open(
            SpanOptions.builder()
                .diskCacheDirectory(directory.resolve("spans"))
                .diskCacheBytes(twoSpans),
            listener,
            new RecordingSource(layer.blob()));

    for (int id = 3; id < 7; id++) {
      readSpan(manager, id);
    }

    assertThat(listener.count("evicted/DISK")).isAtLeast(1);
    assertThat(((SpanEngine) toClose.get(0)).diskCacheSizeBytes().getAsLong())
        .isAtMost(twoSpans);
  }
}
