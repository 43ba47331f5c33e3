package dev.jsoci.fetcher.span;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.fetcher.span.RecordingSource.Request;
import dev.jsoci.oci.Digest;
import dev.jsoci.testing.RandomLayer;
import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.SpanDigestMismatchException;
import dev.jsoci.ztoc.TocEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpanManagerTest {
  private static RandomLayer layer;

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @BeforeAll
  static void buildLayer() {
    layer = RandomLayer.gzip(1, 40, 96 * 1024);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable closeable : toClose) {
      closeable.close();
    }
    threads.shutdownNow();
    assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  private SpanManager open(RecordingSource source, SpanOptions.Builder options) throws IOException {
    SpanEngine engine = SpanEngine.start(options.backgroundFetch(false).build());
    toClose.add(engine);
    return engine.openLayer(layer.digest(), layer.ztoc(), source);
  }

  /** Opens the layer with a readahead of two spans, fetched when {@code executor} runs them. */
  private SpanManager openWithReadahead(RecordingSource source, ManualExecutor executor)
      throws IOException {
    return open(source, SpanOptions.builder().readaheadSpans(2).fetchExecutor(executor));
  }

  private SpanManager open(RecordingSource source) throws IOException {
    return open(source, SpanOptions.builder());
  }

  private static byte[] read(SpanManager manager, long offset, int length) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(length);
    int read = manager.read(offset, buffer);
    assertThat(read).isEqualTo(length);
    return buffer.array();
  }

  /**
   * Starts {@code readerCount} readers at once, each making {@code reads} reads of random ranges
   * that start before {@code offsetBound} and are at most {@code maxLength} long, checks every
   * range against the tar, and waits for them all.
   */
  private void readConcurrently(
      SpanManager manager, int readerCount, int reads, long offsetBound, int maxLength, int seed)
      throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> readers = new ArrayList<>();
    for (int r = 0; r < readerCount; r++) {
      Random random = new Random(seed + r);
      readers.add(
          threads.submit(
              () -> {
                start.await();
                for (int i = 0; i < reads; i++) {
                  long offset = random.nextLong(offsetBound);
                  int length =
                      (int) Math.min(manager.size() - offset, 1 + random.nextInt(maxLength));
                  assertThat(read(manager, offset, length))
                      .isEqualTo(layer.tarRange(offset, length));
                }
                return null;
              }));
    }
    start.countDown();
    for (Future<?> reader : readers) {
      reader.get(60, TimeUnit.SECONDS);
    }
  }

  /** Returns the range of tar bytes that lies entirely inside span {@code id}. */
  private static long middleOf(int id) {
    Span span = layer.span(id);
    return (span.uncompressedStart() + span.uncompressedEnd()) / 2;
  }

  @Test
  void isCached_spanEvictedFromDisk_isFalse(@TempDir Path cache) throws IOException {
    // A disk cache of about four spans, and no memory cache.
    SpanManager manager =
        open(
            new RecordingSource(layer.blob()),
            SpanOptions.builder()
                .memoryCacheBytes(0)
                .diskCacheDirectory(cache)
                .diskCacheBytes(4 * layer.span(0).compressedLength()));
    read(manager, middleOf(0), 1);
    boolean cachedAfterRead = manager.isCached(0);

    for (int id = 1; id <= 8; id++) {
      read(manager, middleOf(id), 1);
    }

    assertThat(cachedAfterRead).isTrue();
    assertThat(manager.state(0)).isEqualTo(SpanState.READY);
    assertThat(manager.isCached(0)).isFalse();
    assertThat(manager.isCached(8)).isTrue();
  }

  @Test
  void layer_hasManySpans() {
    assertThat(layer.spanCount()).isAtLeast(20);
  }

  @Test
  void read_wholeLayerInChunks_matchesTar() throws IOException {
    SpanManager manager = open(new RecordingSource(layer.blob()));
    long size = manager.size();
    Random random = new Random(2);

    for (long offset = 0; offset < size; ) {
      int length = (int) Math.min(size - offset, 1 + random.nextInt(200_000));
      assertThat(read(manager, offset, length)).isEqualTo(layer.tarRange(offset, length));
      offset += length;
    }
  }

  @Test
  void read_randomRanges_matchTar() throws IOException {
    SpanManager manager = open(new RecordingSource(layer.blob()));
    Random random = new Random(3);

    for (int i = 0; i < 300; i++) {
      long offset = random.nextLong(manager.size());
      int length = (int) Math.min(manager.size() - offset, 1 + random.nextInt(150_000));
      assertThat(read(manager, offset, length)).isEqualTo(layer.tarRange(offset, length));
    }
  }

  @Test
  void read_bufferLargerThanLayer_stopsAtSize() throws IOException {
    SpanManager manager = open(new RecordingSource(layer.blob()));
    long offset = manager.size() - 100;
    ByteBuffer buffer = ByteBuffer.allocate(1000);

    int read = manager.read(offset, buffer);

    assertThat(read).isEqualTo(100);
    assertThat(buffer.position()).isEqualTo(100);
    assertThat(java.util.Arrays.copyOf(buffer.array(), 100)).isEqualTo(layer.tarRange(offset, 100));
  }

  @Test
  void read_atSize_returnsMinusOne() throws IOException {
    SpanManager manager = open(new RecordingSource(layer.blob()));

    assertThat(manager.read(manager.size(), ByteBuffer.allocate(10))).isEqualTo(-1);
  }

  @Test
  void read_emptyBuffer_returnsZeroWithoutRequests() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanManager manager = open(source);

    assertThat(manager.read(0, ByteBuffer.allocate(0))).isEqualTo(0);
    assertThat(source.requestCount()).isEqualTo(0);
  }

  @Test
  void read_negativeOffset_isRejected() throws IOException {
    SpanManager manager = open(new RecordingSource(layer.blob()));

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> manager.read(-1, ByteBuffer.allocate(1)));

    assertThat(e).hasMessageThat().isEqualTo("uncompressedOffset must not be negative, found -1");
  }

  @Test
  void read_oneSpan_fetchesOnlyThatSpan() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanManager manager = open(source);
    Span span = layer.span(7);

    read(manager, middleOf(7), 100);

    assertThat(source.requests())
        .containsExactly(new Request(span.compressedStart(), (int) span.compressedLength()));
    assertThat(manager.state(7)).isEqualTo(SpanState.READY);
    assertThat(manager.state(6)).isEqualTo(SpanState.NOT_REQUESTED);
    assertThat(manager.state(8)).isEqualTo(SpanState.NOT_REQUESTED);
  }

  @Test
  void read_adjacentMissingSpans_useOneRequest() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanManager manager = open(source);
    long from = middleOf(3);
    long to = middleOf(6);

    byte[] bytes = read(manager, from, (int) (to - from));

    assertThat(bytes).isEqualTo(layer.tarRange(from, (int) (to - from)));
    long start = layer.span(3).compressedStart();
    long end = layer.span(6).compressedEnd();
    assertThat(source.requests()).containsExactly(new Request(start, (int) (end - start)));
    assertThat(manager.statistics().spansFetched()).isEqualTo(4);
    assertThat(manager.statistics().requests()).isEqualTo(1);
  }

  @Test
  void read_gapOfCachedSpan_usesOneRequestPerRun() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanManager manager = open(source);
    read(manager, middleOf(4), 10);
    long from = middleOf(3);
    long to = middleOf(6);

    byte[] bytes = read(manager, from, (int) (to - from));

    assertThat(bytes).isEqualTo(layer.tarRange(from, (int) (to - from)));
    Span three = layer.span(3);
    long fiveStart = layer.span(5).compressedStart();
    long sixEnd = layer.span(6).compressedEnd();
    assertThat(source.requests().subList(1, 3))
        .containsExactly(
            new Request(three.compressedStart(), (int) three.compressedLength()),
            new Request(fiveStart, (int) (sixEnd - fiveStart)));
    assertThat(manager.statistics().memoryHits()).isEqualTo(1);
  }

  @Test
  void read_runLongerThanRequestLimit_isSplit() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    long oneSpan = layer.span(3).compressedLength();
    SpanManager manager = open(source, SpanOptions.builder().maxRequestBytes(oneSpan));
    long from = layer.span(3).uncompressedStart();
    long to = layer.span(5).uncompressedEnd();

    byte[] bytes = read(manager, from, (int) (to - from));

    assertThat(bytes).isEqualTo(layer.tarRange(from, (int) (to - from)));
    assertThat(source.requestCount()).isEqualTo(3);
  }

  @Test
  void read_endingOnSpanBoundary_doesNotFetchNextSpan() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanManager manager = open(source);
    Span span = layer.span(2);

    read(manager, span.uncompressedStart(), (int) span.uncompressedLength());

    assertThat(source.requestCount()).isEqualTo(1);
    assertThat(manager.state(3)).isEqualTo(SpanState.NOT_REQUESTED);
  }

  @Test
  void read_64ConcurrentReaders_fetchEachSpanOnce() throws Exception {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanManager manager = open(source);

    readConcurrently(manager, 64, 20, manager.size() / 2, 300_000, 100);

    for (int id = 0; id < layer.spanCount(); id++) {
      Span span = layer.span(id);
      long covering =
          source.requests().stream()
              .filter(r -> r.offset() <= span.compressedStart() && span.compressedEnd() <= r.end())
              .count();
      assertThat(covering).isEqualTo(manager.state(id) == SpanState.READY ? 1 : 0);
    }
    assertThat(manager.statistics().spansFetched())
        .isEqualTo(
            java.util.stream.IntStream.range(0, layer.spanCount())
                .filter(id -> manager.state(id) == SpanState.READY)
                .count());
  }

  @Test
  void read_recentTierOnly_reusesArrays() throws Exception {
    // A cap of one byte: only the recent tier keeps spans, so they leave memory while readers may
    // still hold them, and their arrays go back to the pool for other spans.
    SpanEngine engine =
        SpanEngine.start(SpanOptions.builder().backgroundFetch(false).memoryCacheBytes(1).build());
    toClose.add(engine);
    SpanManager manager =
        engine.openLayer(layer.digest(), layer.ztoc(), new RecordingSource(layer.blob()));

    readConcurrently(manager, 16, 40, manager.size(), 200_000, 200);

    assertThat(engine.memoryCache().buffers().reusedArrays()).isGreaterThan(0);
  }

  @Test
  void read_fetchMemoryOfOneSpan_fetchesOneAtATime() throws Exception {
    RecordingSource source = new RecordingSource(layer.blob());
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    source.fault(
        (request, bytes) -> {
          maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
          try {
            // Gives the other readers time to start their fetches if the budget let them.
            Thread.sleep(20);
            return bytes;
          } finally {
            inFlight.decrementAndGet();
          }
        });
    SpanManager manager = open(source, SpanOptions.builder().fetchMemoryBytes(1024));
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> readers = new ArrayList<>();

    int readerCount = Math.min(16, layer.spanCount());
    for (int r = 0; r < readerCount; r++) {
      long offset = middleOf(r);
      readers.add(
          threads.submit(
              () -> {
                start.await();
                assertThat(read(manager, offset, 100)).isEqualTo(layer.tarRange(offset, 100));
                return null;
              }));
    }
    start.countDown();
    for (Future<?> reader : readers) {
      reader.get(60, TimeUnit.SECONDS);
    }

    assertThat(source.requestCount()).isEqualTo(readerCount);
    assertThat(maxInFlight.get()).isEqualTo(1);
  }

  @Test
  void read_slowSpanTwo_doesNotDelaySpanFive() throws Exception {
    RecordingSource source = new RecordingSource(layer.blob());
    CountDownLatch spanTwoRequested = new CountDownLatch(1);
    CountDownLatch releaseSpanTwo = new CountDownLatch(1);
    long spanTwoStart = layer.span(2).compressedStart();
    source.fault(
        (request, bytes) -> {
          if (request.offset() == spanTwoStart) {
            spanTwoRequested.countDown();
            if (!releaseSpanTwo.await(30, TimeUnit.SECONDS)) {
              throw new IOException("span 2 was never released");
            }
          }
          return bytes;
        });
    SpanManager manager = open(source);
    Future<byte[]> slowRead = threads.submit(() -> read(manager, middleOf(2), 10));
    assertThat(spanTwoRequested.await(30, TimeUnit.SECONDS)).isTrue();

    byte[] spanFive = read(manager, middleOf(5), 10);

    assertThat(spanFive).isEqualTo(layer.tarRange(middleOf(5), 10));
    assertThat(slowRead.isDone()).isFalse();
    assertThat(manager.state(2)).isEqualTo(SpanState.FETCHING);
    releaseSpanTwo.countDown();
    assertThat(slowRead.get(30, TimeUnit.SECONDS)).isEqualTo(layer.tarRange(middleOf(2), 10));
  }

  @Test
  void read_digestMismatchOnce_refetchesTheSpan() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    long spanStart = layer.span(2).compressedStart();
    AtomicBoolean corrupted = new AtomicBoolean();
    source.fault(
        (request, bytes) -> {
          if (request.offset() == spanStart && corrupted.compareAndSet(false, true)) {
            bytes[bytes.length - 1] ^= 0x01;
          }
          return bytes;
        });
    SpanManager manager = open(source);

    byte[] bytes = read(manager, middleOf(2), 100);

    assertThat(bytes).isEqualTo(layer.tarRange(middleOf(2), 100));
    assertThat(source.requestsAt(spanStart)).isEqualTo(2);
    assertThat(manager.statistics().digestMismatches()).isEqualTo(1);
    assertThat(manager.statistics().spansFetched()).isEqualTo(1);
  }

  @Test
  void read_digestMismatchTwice_failsNamingLayerAndSpan() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    Span span = layer.span(2);
    source.fault(
        (request, bytes) -> {
          if (request.offset() == span.compressedStart()) {
            bytes[bytes.length - 1] ^= 0x01;
          }
          return bytes;
        });
    SpanManager manager = open(source);
    byte[] corrupt = layer.blob().clone();
    corrupt[(int) span.compressedEnd() - 1] ^= 0x01;
    byte[] corruptSpan =
        java.util.Arrays.copyOfRange(
            corrupt, (int) span.compressedStart(), (int) span.compressedEnd());

    SpanDigestMismatchException e =
        assertThrows(SpanDigestMismatchException.class, () -> read(manager, middleOf(2), 100));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer "
                + layer.digest()
                + ": span 2 has digest "
                + Digest.sha256Of(corruptSpan)
                + ", but the ztoc expects "
                + layer.ztoc().spanDigests().get(2));
    assertThat(e.spanId()).isEqualTo(2);
    assertThat(source.requestsAt(span.compressedStart())).isEqualTo(2);
    assertThat(manager.state(2)).isEqualTo(SpanState.FAILED);
  }

  @Test
  void read_digestMismatchWithoutRetries_failsAfterOneFetch() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    source.fault(
        (request, bytes) -> {
          bytes[0] ^= 0x01;
          return bytes;
        });
    SpanManager manager = open(source, SpanOptions.builder().verificationRetries(0));

    assertThrows(SpanDigestMismatchException.class, () -> read(manager, middleOf(2), 100));

    assertThat(source.requestCount()).isEqualTo(1);
  }

  @Test
  void read_verificationOff_ignoresSpanDigests() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanEngine engine =
        SpanEngine.start(SpanOptions.builder().backgroundFetch(false).verifySpans(false).build());
    toClose.add(engine);
    String wrong = Digest.sha256Of(new byte[] {1}).toString();
    SpanManager manager = engine.openLayer(layer.digest(), layer.withSpanDigests(wrong), source);

    byte[] bytes = read(manager, middleOf(2), 100);

    assertThat(bytes).isEqualTo(layer.tarRange(middleOf(2), 100));
    assertThat(manager.statistics().digestMismatches()).isEqualTo(0);
  }

  @Test
  void read_verificationOn_rejectsWrongSpanDigests() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanEngine engine = SpanEngine.start(SpanOptions.builder().backgroundFetch(false).build());
    toClose.add(engine);
    String wrong = Digest.sha256Of(new byte[] {1}).toString();
    SpanManager manager = engine.openLayer(layer.digest(), layer.withSpanDigests(wrong), source);

    assertThrows(SpanDigestMismatchException.class, () -> read(manager, middleOf(2), 100));
  }

  @Test
  void read_afterFailedFetch_fetchesAgain() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    AtomicBoolean failed = new AtomicBoolean();
    source.fault(
        (request, bytes) -> {
          if (failed.compareAndSet(false, true)) {
            throw new IOException("connection reset");
          }
          return bytes;
        });
    SpanManager manager = open(source);

    IOException e = assertThrows(IOException.class, () -> read(manager, middleOf(4), 10));
    assertThat(e).hasMessageThat().isEqualTo("connection reset");
    assertThat(manager.state(4)).isEqualTo(SpanState.FAILED);

    assertThat(read(manager, middleOf(4), 10)).isEqualTo(layer.tarRange(middleOf(4), 10));
    assertThat(manager.state(4)).isEqualTo(SpanState.READY);
    assertThat(source.requestCount()).isEqualTo(2);
  }

  @Test
  void read_sourceReturnsTooFewBytes_fails() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    source.fault((request, bytes) -> java.util.Arrays.copyOf(bytes, bytes.length - 1));
    SpanManager manager = open(source);
    Span span = layer.span(4);

    IOException e = assertThrows(IOException.class, () -> read(manager, middleOf(4), 10));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer "
                + layer.digest()
                + ": read of ["
                + span.compressedStart()
                + ", "
                + span.compressedEnd()
                + ") returned "
                + (span.compressedLength() - 1)
                + " bytes, expected "
                + span.compressedLength());
  }

  @Test
  void read_smallMemoryCap_evictsAndStaysCorrect() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    long cap = 3 * (RandomLayer.SPAN_SIZE * 2);
    SpanEngine engine =
        SpanEngine.start(
            SpanOptions.builder().backgroundFetch(false).memoryCacheBytes(cap).build());
    toClose.add(engine);
    SpanManager manager = engine.openLayer(layer.digest(), layer.ztoc(), source);
    Random random = new Random(4);

    for (int i = 0; i < 200; i++) {
      long offset = random.nextLong(manager.size());
      int length = (int) Math.min(manager.size() - offset, 1 + random.nextInt(100_000));
      assertThat(read(manager, offset, length)).isEqualTo(layer.tarRange(offset, length));
    }

    long recentTier = MemorySpanCache.RECENT_SPANS * (RandomLayer.SPAN_SIZE * 2L);
    assertThat(engine.memoryCache().weightedSizeBytes()).isAtMost(cap + recentTier);
    assertThat(manager.statistics().spansFetched()).isGreaterThan((long) layer.spanCount());
  }

  @Test
  void read_afterClose_throwsLayerClosed() throws IOException {
    SpanManager manager = open(new RecordingSource(layer.blob()));
    manager.close();

    LayerClosedException e =
        assertThrows(LayerClosedException.class, () -> manager.read(0, ByteBuffer.allocate(1)));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("layer " + layer.digest() + " is released; open it again to read it");
  }

  @Test
  void read_plainTarLayer_neverFetchesTheEmptyLastSpan() throws IOException {
    // One file of 508 blocks ends the archive at 261632, inside the last 10240-byte record, which
    // ends at 266240: past 262144, where the last 64 KiB span starts.
    RandomLayer tar = RandomLayer.plainTar(5, 508 * 512);
    Span last = tar.span(tar.spanCount() - 1);
    assertThat(last.uncompressedEnd()).isLessThan(last.uncompressedStart());
    RecordingSource source = new RecordingSource(tar.blob());
    SpanEngine engine = SpanEngine.start(SpanOptions.builder().backgroundFetch(false).build());
    toClose.add(engine);
    SpanManager manager = engine.openLayer(tar.digest(), tar.ztoc(), source);

    byte[] whole = read(manager, 0, (int) manager.size());

    assertThat(whole).isEqualTo(tar.tarRange(0, (int) manager.size()));
    assertThat(manager.state(tar.spanCount() - 1)).isEqualTo(SpanState.NOT_REQUESTED);
    assertThat(manager.prefetchSpans(0, tar.spanCount() - 1).join()).isNull();
    assertThat(manager.state(tar.spanCount() - 1)).isEqualTo(SpanState.NOT_REQUESTED);
  }

  @Test
  void prefetch_entries_fetchesOnlyTheirSpans() throws Exception {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanManager manager = open(source);
    TocEntry file = layer.files().get(10);
    int first = layer.zinfo().spanOf(file.uncompressedOffset());
    int last = layer.zinfo().spanOf(file.uncompressedOffset() + file.uncompressedSize() - 1);

    manager.prefetch(List.of(file)).get(30, TimeUnit.SECONDS);

    for (int id = 0; id < layer.spanCount(); id++) {
      SpanState expected = id >= first && id <= last ? SpanState.READY : SpanState.NOT_REQUESTED;
      assertThat(manager.state(id)).isEqualTo(expected);
    }
    int requests = source.requestCount();
    byte[] content = read(manager, file.uncompressedOffset(), (int) file.uncompressedSize());
    assertThat(content)
        .isEqualTo(layer.tarRange(file.uncompressedOffset(), (int) file.uncompressedSize()));
    assertThat(source.requestCount()).isEqualTo(requests);
  }

  @Test
  void prefetch_failingSource_completesExceptionally() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    source.fault(
        (request, bytes) -> {
          throw new IOException("registry unavailable");
        });
    SpanManager manager = open(source);

    Throwable failure =
        assertThrows(
            java.util.concurrent.ExecutionException.class,
            () -> manager.prefetchSpans(1, 2).get(30, TimeUnit.SECONDS));

    assertThat(failure).hasCauseThat().hasMessageThat().isEqualTo("registry unavailable");
  }

  @Test
  void statistics_engine_sumsLayers() throws IOException {
    SpanEngine engine = SpanEngine.start(SpanOptions.builder().backgroundFetch(false).build());
    toClose.add(engine);
    SpanManager first =
        engine.openLayer(layer.digest(), layer.ztoc(), new RecordingSource(layer.blob()));
    RandomLayer other = RandomLayer.gzip(9, 10, 50_000);
    SpanManager second =
        engine.openLayer(other.digest(), other.ztoc(), new RecordingSource(other.blob()));

    read(first, middleOf(1), 10);
    read(first, middleOf(1), 10);
    read(second, 0, 10);

    FetchStatistics total = engine.statistics();
    assertThat(total.requests()).isEqualTo(2);
    assertThat(total.spansFetched()).isEqualTo(2);
    assertThat(total.memoryHits()).isEqualTo(1);
    assertThat(total.bytesFetched())
        .isEqualTo(layer.span(1).compressedLength() + other.span(0).compressedLength());
    assertThat(first.statistics().requests()).isEqualTo(1);
    assertThat(second.statistics().requests()).isEqualTo(1);
  }

  @Test
  void openLayer_invalidSpanDigest_isRejected() throws IOException {
    SpanEngine engine = SpanEngine.start(SpanOptions.builder().backgroundFetch(false).build());
    toClose.add(engine);

    dev.jsoci.ztoc.ZtocFormatException e =
        assertThrows(
            dev.jsoci.ztoc.ZtocFormatException.class,
            () ->
                engine.openLayer(
                    layer.digest(),
                    layer.withSpanDigests("md5:abc"),
                    new RecordingSource(layer.blob())));

    assertThat(e).hasMessageThat().startsWith("invalid ztoc " + layer.digest() + ": span 0: ");
  }

  @Test
  void read_sequential_fetchesNextSpansAhead() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    ManualExecutor executor = new ManualExecutor();
    SpanManager manager = openWithReadahead(source, executor);

    read(manager, middleOf(0), 16);
    executor.runAll();

    assertThat(manager.state(1)).isEqualTo(SpanState.READY);
    assertThat(manager.state(2)).isEqualTo(SpanState.READY);
    assertThat(manager.state(3)).isEqualTo(SpanState.NOT_REQUESTED);

    read(manager, middleOf(1), 16);
    executor.runAll();

    assertThat(manager.state(3)).isEqualTo(SpanState.READY);
    assertThat(manager.state(4)).isEqualTo(SpanState.NOT_REQUESTED);
  }

  @Test
  void read_firstReadMidLayer_fetchesNextSpansAhead() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    ManualExecutor executor = new ManualExecutor();
    SpanManager manager = openWithReadahead(source, executor);

    read(manager, middleOf(10), 16);
    executor.runAll();

    assertThat(manager.state(11)).isEqualTo(SpanState.READY);
    assertThat(manager.state(12)).isEqualTo(SpanState.READY);
    assertThat(manager.state(13)).isEqualTo(SpanState.NOT_REQUESTED);
  }

  @Test
  void read_ownSpanBeforeReadahead() throws Exception {
    RecordingSource source = new RecordingSource(layer.blob());
    // A readahead task runs at once on its own thread, so that it takes the fetch memory first
    // unless the read has reserved it already.
    RunUntilBlocked executor = new RunUntilBlocked();
    SpanManager manager =
        open(
            source,
            SpanOptions.builder().readaheadSpans(2).fetchMemoryBytes(1024).fetchExecutor(executor));

    read(manager, middleOf(10), 16);
    executor.joinAll();

    // The two readahead spans may go out in either order, after the read's own span.
    List<Long> offsets = source.requests().stream().map(Request::offset).toList();
    assertThat(offsets)
        .containsExactly(
            layer.span(10).compressedStart(),
            layer.span(11).compressedStart(),
            layer.span(12).compressedStart());
    assertThat(offsets.get(0)).isEqualTo(layer.span(10).compressedStart());
    assertThat(manager.state(12)).isEqualTo(SpanState.READY);
  }

  @Test
  void read_budgetSpentByPrefetch_usesReserve() throws Exception {
    RecordingSource source = new RecordingSource(layer.blob());
    long prefetchedFrom = layer.span(20).compressedStart();
    CountDownLatch prefetchesStarted = new CountDownLatch(2);
    CountDownLatch release = new CountDownLatch(1);
    source.fault(
        (request, bytes) -> {
          if (request.offset() >= prefetchedFrom) {
            prefetchesStarted.countDown();
            release.await();
          }
          return bytes;
        });
    long work = 0;
    for (int id : new int[] {5, 20, 21, 22}) {
      Span span = layer.span(id);
      work = Math.max(work, 2 * span.compressedLength() + span.uncompressedLength());
    }
    // Room for two spans' work, so that the third prefetch waits, and a read reserve of one more.
    SpanManager manager =
        open(
            source, SpanOptions.builder().readaheadSpans(0).fetchMemoryBytes(2 * work + (1 << 10)));
    CompletableFuture<Void> prefetch = manager.prefetchSpans(20, 22);
    assertThat(prefetchesStarted.await(30, TimeUnit.SECONDS)).isTrue();

    Future<byte[]> read = threads.submit(() -> read(manager, middleOf(5), 16));
    try {
      assertThat(read.get(30, TimeUnit.SECONDS)).isEqualTo(layer.tarRange(middleOf(5), 16));
    } finally {
      release.countDown();
    }
    prefetch.get(30, TimeUnit.SECONDS);
    assertThat(manager.state(22)).isEqualTo(SpanState.READY);
  }

  @Test
  void prefetch_withDiskCache_reservesOnlyCompressedWork(@TempDir Path cache) throws Exception {
    RecordingSource source = new RecordingSource(layer.blob());
    CountDownLatch fourStarted = new CountDownLatch(4);
    CountDownLatch release = new CountDownLatch(1);
    source.fault(
        (request, bytes) -> {
          fourStarted.countDown();
          release.await();
          return bytes;
        });
    long compressedWork = 0;
    long inflatingWork = 0;
    for (int id = 20; id <= 25; id++) {
      Span span = layer.span(id);
      compressedWork = Math.max(compressedWork, 2 * span.compressedLength());
      inflatingWork =
          Math.max(inflatingWork, 2 * span.compressedLength() + span.uncompressedLength());
    }
    long budget = 4 * compressedWork + (4 << 10);
    // Inflated at once, only two of the spans would fit the budget.
    assertThat(3 * inflatingWork).isGreaterThan(budget);
    SpanManager manager =
        open(
            source,
            SpanOptions.builder()
                .readaheadSpans(0)
                .diskCacheDirectory(cache)
                .fetchMemoryBytes(budget));

    CompletableFuture<Void> prefetch = manager.prefetchSpans(20, 25);
    try {
      assertThat(fourStarted.await(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      release.countDown();
    }
    prefetch.get(30, TimeUnit.SECONDS);
    assertThat(source.requestCount()).isEqualTo(6);
  }

  @Test
  void read_spanQueuedForReadahead_doesNotWait() throws Exception {
    RecordingSource source = new RecordingSource(layer.blob());
    long prefetchedFrom = layer.span(20).compressedStart();
    CountDownLatch release = new CountDownLatch(1);
    source.fault(
        (request, bytes) -> {
          if (request.offset() >= prefetchedFrom) {
            release.await();
          }
          return bytes;
        });
    long work = 0;
    for (int id : new int[] {5, 6, 20, 21}) {
      Span span = layer.span(id);
      work = Math.max(work, 2 * span.compressedLength() + span.uncompressedLength());
    }
    // Each task runs on its own thread until it blocks, so the prefetch holds the whole budget and
    // the readahead of span 6 waits for it before the read of span 6 starts.
    RunUntilBlocked executor = new RunUntilBlocked();
    SpanManager manager =
        open(
            source,
            SpanOptions.builder()
                .readaheadSpans(1)
                .fetchMemoryBytes(2 * work + (1 << 10))
                .fetchExecutor(executor));
    CompletableFuture<Void> prefetch = manager.prefetchSpans(20, 21);

    try {
      read(manager, middleOf(5), 16);
      Future<byte[]> next = threads.submit(() -> read(manager, middleOf(6), 16));
      assertThat(next.get(30, TimeUnit.SECONDS)).isEqualTo(layer.tarRange(middleOf(6), 16));
    } finally {
      release.countDown();
    }
    prefetch.get(30, TimeUnit.SECONDS);
    executor.joinAll();
    assertThat(source.requestsAt(layer.span(6).compressedStart())).isEqualTo(1);
  }

  /**
   * Runs each task on a new thread and returns once the thread has ended or blocks, so that tasks
   * take locks and fetch memory in the order they were handed over.
   */
  private static final class RunUntilBlocked implements Executor {
    private final List<Thread> started = new ArrayList<>();

    @Override
    public void execute(Runnable task) {
      Thread thread = new Thread(task, "run-until-blocked");
      synchronized (started) {
        started.add(thread);
      }
      thread.start();
      try {
        awaitBlockedOrDone(thread);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    /** Waits up to 30 s for each thread started so far to end. */
    void joinAll() throws InterruptedException {
      List<Thread> threads;
      synchronized (started) {
        threads = List.copyOf(started);
      }
      for (Thread thread : threads) {
        thread.join(TimeUnit.SECONDS.toMillis(30));
      }
    }
  }

  /** Waits until {@code thread} ends or waits for a lock or a condition. */
  private static void awaitBlockedOrDone(Thread thread) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline) {
      Thread.State state = thread.getState();
      if (state == Thread.State.WAITING
          || state == Thread.State.TIMED_WAITING
          || state == Thread.State.BLOCKED
          || state == Thread.State.TERMINATED) {
        return;
      }
      Thread.sleep(1);
    }
    throw new AssertionError(thread + " neither ended nor blocked within 30 s");
  }

  @Test
  void read_random_fetchesNothingAhead() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    ManualExecutor executor = new ManualExecutor();
    SpanManager manager = openWithReadahead(source, executor);
    read(manager, middleOf(10), 16);
    executor.runAll();
    int requestsAfterFirstRead = source.requestCount();

    read(manager, middleOf(5), 16);
    executor.runAll();

    assertThat(source.requestCount()).isEqualTo(requestsAfterFirstRead + 1);
    assertThat(manager.state(6)).isEqualTo(SpanState.NOT_REQUESTED);
  }

  @Test
  void readIfInMemory_unfetchedSpan_returnsNotInMemory() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanManager manager = open(source);
    ByteBuffer destination = ByteBuffer.allocate(16);

    int count = manager.readIfInMemory(middleOf(3), destination);

    assertThat(count).isEqualTo(SpanManager.NOT_IN_MEMORY);
    assertThat(destination.position()).isEqualTo(0);
    assertThat(source.requestCount()).isEqualTo(0);
    assertThat(manager.state(3)).isEqualTo(SpanState.NOT_REQUESTED);
  }

  @Test
  void readIfInMemory_readSpan_copiesWithoutRequest() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanManager manager = open(source);
    read(manager, middleOf(3), 16);
    int requestsAfterRead = source.requestCount();
    ByteBuffer destination = ByteBuffer.allocateDirect(100);

    int count = manager.readIfInMemory(middleOf(3) + 50, destination);

    assertThat(count).isEqualTo(100);
    assertThat(destination.position()).isEqualTo(100);
    byte[] bytes = new byte[100];
    destination.flip().get(bytes);
    assertThat(bytes).isEqualTo(layer.tarRange(middleOf(3) + 50, 100));
    assertThat(source.requestCount()).isEqualTo(requestsAfterRead);
  }

  @Test
  void readIfInMemory_missingSecondSpan_changesNothing() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanManager manager = open(source);
    read(manager, middleOf(3), 16);
    long start = layer.span(4).uncompressedStart() - 10;
    ByteBuffer destination = ByteBuffer.allocate(20);

    int count = manager.readIfInMemory(start, destination);

    assertThat(count).isEqualTo(SpanManager.NOT_IN_MEMORY);
    assertThat(destination.position()).isEqualTo(0);
    assertThat(manager.state(4)).isEqualTo(SpanState.NOT_REQUESTED);
  }

  @Test
  void readIfInMemory_sequentialHit_readsAhead() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    ManualExecutor executor = new ManualExecutor();
    SpanManager manager = openWithReadahead(source, executor);
    read(manager, middleOf(0), 16);
    executor.runAll();

    int count = manager.readIfInMemory(middleOf(1), ByteBuffer.allocate(16));
    executor.runAll();

    assertThat(count).isEqualTo(16);
    assertThat(manager.state(3)).isEqualTo(SpanState.READY);
  }
}
