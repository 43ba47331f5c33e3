package dev.jsoci.fetcher.span;

import static com.google.common.truth.Truth.assertThat;

import dev.jsoci.testing.RandomLayer;
import dev.jsoci.ztoc.Span;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskSpanCacheTest {
  private static RandomLayer layer;

  @TempDir Path root;

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeAll
  static void buildLayer() {
    layer = RandomLayer.gzip(11, 25, 80 * 1024);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable closeable : toClose) {
      closeable.close();
    }
  }

  private SpanEngine engine() throws IOException {
    SpanEngine engine =
        SpanEngine.start(
            SpanOptions.builder().backgroundFetch(false).diskCacheDirectory(root).build());
    toClose.add(engine);
    return engine;
  }

  private static byte[] readAll(SpanManager manager) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate((int) manager.size());
    assertThat(manager.read(0, buffer)).isEqualTo((int) manager.size());
    return buffer.array();
  }

  private static SpanKey key(int spanId) {
    return new SpanKey(layer.digest(), layer.span(spanId));
  }

  private static byte[] compressed(int spanId) {
    Span span = layer.span(spanId);
    return Arrays.copyOfRange(
        layer.blob(), (int) span.compressedStart(), (int) span.compressedEnd());
  }

  private long spanFileCount() throws IOException {
    try (Stream<Path> files = Files.walk(root.resolve("spans"))) {
      return files.filter(Files::isRegularFile).count();
    }
  }

  @Test
  void read_newEngineOnSameDirectory_servesFromDisk() throws IOException {
    RecordingSource first = new RecordingSource(layer.blob());
    SpanEngine engine = engine();
    readAll(engine.openLayer(layer.digest(), layer.ztoc(), first));
    engine.close();
    assertThat(spanFileCount()).isEqualTo(layer.spanCount());

    RecordingSource second = new RecordingSource(layer.blob());
    SpanManager reopened = engine().openLayer(layer.digest(), layer.ztoc(), second);
    byte[] tar = readAll(reopened);

    assertThat(tar).isEqualTo(layer.tarRange(0, (int) reopened.size()));
    assertThat(second.requestCount()).isEqualTo(0);
    assertThat(reopened.statistics().diskHits()).isEqualTo(layer.spanCount());
  }

  @Test
  void open_crashLeftovers_areDiscarded() throws IOException {
    DiskSpanCache cache = DiskSpanCache.open(root, Long.MAX_VALUE);
    for (int id = 0; id < 3; id++) {
      cache.store(key(id), compressed(id));
    }
    Path leftover = root.resolve("tmp").resolve("0b1c.tmp");
    Files.write(leftover, compressed(3));
    Path truncated = cache.pathOf(key(0));
    byte[] whole = Files.readAllBytes(truncated);
    Files.write(truncated, Arrays.copyOf(whole, whole.length - 10));
    Path corrupted = cache.pathOf(key(1));
    byte[] bytes = Files.readAllBytes(corrupted);
    bytes[bytes.length - 1] ^= 0x40;
    Files.write(corrupted, bytes);
    Path misnamed = truncated.resolveSibling("not-a-span");
    Files.write(misnamed, whole);

    DiskSpanCache reopened = DiskSpanCache.open(root, Long.MAX_VALUE);

    assertThat(Files.exists(leftover)).isFalse();
    assertThat(Files.exists(truncated)).isFalse();
    assertThat(Files.exists(corrupted)).isFalse();
    assertThat(Files.exists(misnamed)).isFalse();
    assertThat(reopened.fileCount()).isEqualTo(1);
    assertThat(reopened.contains(layer.digest(), 2)).isTrue();
    assertThat(reopened.load(key(2), layer.ztoc().spanDigests().get(2))).isEqualTo(compressed(2));
  }

  @Test
  void read_afterCrashLeftovers_neverServesThem() throws IOException {
    DiskSpanCache cache = DiskSpanCache.open(root, Long.MAX_VALUE);
    for (int id = 0; id < layer.spanCount(); id++) {
      cache.store(key(id), compressed(id));
    }
    Path truncated = cache.pathOf(key(4));
    byte[] whole = Files.readAllBytes(truncated);
    Files.write(truncated, Arrays.copyOf(whole, whole.length / 2));
    Path corrupted = cache.pathOf(key(5));
    byte[] bytes = Files.readAllBytes(corrupted);
    bytes[DiskSpanCache.HEADER_BYTES + 3] ^= 0x01;
    Files.write(corrupted, bytes);

    RecordingSource source = new RecordingSource(layer.blob());
    SpanManager manager = engine().openLayer(layer.digest(), layer.ztoc(), source);
    byte[] tar = readAll(manager);

    assertThat(tar).isEqualTo(layer.tarRange(0, (int) manager.size()));
    Span four = layer.span(4);
    Span five = layer.span(5);
    assertThat(source.requests())
        .containsExactly(
            new RecordingSource.Request(
                four.compressedStart(), (int) (five.compressedEnd() - four.compressedStart())));
    assertThat(manager.statistics().diskHits()).isEqualTo(layer.spanCount() - 2);
  }

  @Test
  void load_fileCorruptedWhileOpen_isMissAndDeleted() throws IOException {
    DiskSpanCache cache = DiskSpanCache.open(root, Long.MAX_VALUE);
    cache.store(key(2), compressed(2));
    Path file = cache.pathOf(key(2));
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 1] ^= 0x01;
    Files.write(file, bytes);

    byte[] loaded = cache.load(key(2), layer.ztoc().spanDigests().get(2));

    assertThat(loaded).isNull();
    assertThat(Files.exists(file)).isFalse();
    assertThat(cache.fileCount()).isEqualTo(0);
    assertThat(cache.sizeBytes()).isEqualTo(0);
  }

  @Test
  void load_spanOfAnotherZtoc_isMiss() throws IOException {
    DiskSpanCache cache = DiskSpanCache.open(root, Long.MAX_VALUE);
    cache.store(key(2), compressed(2));
    Span two = layer.span(2);
    Span shifted =
        new Span(
            2,
            two.compressedStart() + 1,
            two.compressedEnd(),
            two.uncompressedStart(),
            two.uncompressedEnd());

    assertThat(cache.load(new SpanKey(layer.digest(), shifted), null)).isNull();
  }

  @Test
  void load_digestDiffersFromZtoc_isMiss() throws IOException {
    DiskSpanCache cache = DiskSpanCache.open(root, Long.MAX_VALUE);
    cache.store(key(2), compressed(2));

    assertThat(cache.load(key(2), layer.ztoc().spanDigests().get(3))).isNull();
  }

  @Test
  void store_overCap_evictsLeastRecentlyUsed() throws IOException {
    long fileBytes = DiskSpanCache.HEADER_BYTES + compressed(0).length;
    long cap =
        fileBytes
            + (DiskSpanCache.HEADER_BYTES + compressed(1).length)
            + (DiskSpanCache.HEADER_BYTES + compressed(2).length);
    DiskSpanCache cache = DiskSpanCache.open(root, cap);
    cache.store(key(0), compressed(0));
    cache.store(key(1), compressed(1));
    cache.store(key(2), compressed(2));
    assertThat(cache.load(key(0), null)).isNotNull();

    cache.store(key(3), compressed(3));

    assertThat(cache.contains(layer.digest(), 0)).isTrue();
    assertThat(cache.contains(layer.digest(), 1)).isFalse();
    assertThat(Files.exists(cache.pathOf(key(1)))).isFalse();
    assertThat(cache.contains(layer.digest(), 3)).isTrue();
    assertThat(cache.sizeBytes()).isAtMost(cap);
  }

  @Test
  void open_overCap_keepsMostRecentlyModified() throws IOException {
    DiskSpanCache cache = DiskSpanCache.open(root, Long.MAX_VALUE);
    for (int id = 0; id < 4; id++) {
      cache.store(key(id), compressed(id));
      Files.setLastModifiedTime(cache.pathOf(key(id)), FileTime.fromMillis(1_000_000L * (id + 1)));
    }
    long lastTwo = 2L * DiskSpanCache.HEADER_BYTES + compressed(2).length + compressed(3).length;

    DiskSpanCache reopened = DiskSpanCache.open(root, lastTwo);

    assertThat(reopened.fileCount()).isEqualTo(2);
    assertThat(reopened.contains(layer.digest(), 2)).isTrue();
    assertThat(reopened.contains(layer.digest(), 3)).isTrue();
    assertThat(Files.exists(cache.pathOf(key(0)))).isFalse();
  }

  @Test
  void store_spanLargerThanCap_isSkipped() throws IOException {
    DiskSpanCache cache = DiskSpanCache.open(root, 10);

    cache.store(key(0), compressed(0));

    assertThat(cache.fileCount()).isEqualTo(0);
    assertThat(spanFileCount()).isEqualTo(0);
  }

  @Test
  void store_sameSpanTwice_countsOnce() throws IOException {
    DiskSpanCache cache = DiskSpanCache.open(root, Long.MAX_VALUE);

    cache.store(key(0), compressed(0));
    cache.store(key(0), compressed(0));

    assertThat(cache.fileCount()).isEqualTo(1);
    assertThat(cache.sizeBytes()).isEqualTo(DiskSpanCache.HEADER_BYTES + compressed(0).length);
    try (Stream<Path> tmp = Files.list(root.resolve("tmp"))) {
      assertThat(tmp.count()).isEqualTo(0);
    }
  }
}
