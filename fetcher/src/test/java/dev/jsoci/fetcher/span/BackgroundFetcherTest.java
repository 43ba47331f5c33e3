package dev.jsoci.fetcher.span;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.jsoci.testing.RandomLayer;
import dev.jsoci.ztoc.Span;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The background fetcher on a fake clock, with fetches run by the test thread. */
class BackgroundFetcherTest {
  private static final int MAX_STEPS = 10_000;

  private static RandomLayer layer;

  @TempDir Path root;

  private final FakeTicker ticker = new FakeTicker();
  private final FakeScheduler scheduler = new FakeScheduler(ticker);
  private final ManualExecutor executor = new ManualExecutor();
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeAll
  static void buildLayer() {
    layer = RandomLayer.gzip(31, 30, 80 * 1024);
  }

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable closeable : toClose) {
      closeable.close();
    }
    threads.shutdownNow();
    assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  private SpanOptions.Builder options() {
    return SpanOptions.builder()
        .ticker(ticker)
        .scheduler(scheduler)
        .fetchExecutor(executor)
        .backgroundBytesPerSecond(1L << 40)
        .backgroundConcurrency(1);
  }

  private SpanEngine engine(SpanOptions.Builder options) throws IOException {
    SpanEngine engine = SpanEngine.start(options.build());
    toClose.add(engine);
    return engine;
  }

  private static long maxCompressedSpan() {
    long max = 0;
    for (int id = 0; id < layer.spanCount(); id++) {
      max = Math.max(max, layer.span(id).compressedLength());
    }
    return max;
  }

  /** Advances the clock in steps of one second until every span is ready; returns the steps. */
  private int runUntilReady(SpanManager manager) {
    for (int step = 0; step < MAX_STEPS; step++) {
      executor.runAll();
      boolean ready = true;
      for (int id = 0; id < manager.spanCount(); id++) {
        ready &= manager.state(id) == SpanState.READY;
      }
      if (ready) {
        return step;
      }
      scheduler.advance(Duration.ofSeconds(1));
    }
    throw new AssertionError("spans still missing after " + MAX_STEPS + " steps");
  }

  @Test
  void background_rateLimit_isRespected() throws IOException {
    long rate = 50_000;
    SpanEngine engine = engine(options().backgroundBytesPerSecond(rate).backgroundConcurrency(2));
    SpanManager manager =
        engine.openLayer(layer.digest(), layer.ztoc(), new RecordingSource(layer.blob()));
    assertThat((long) layer.blob().length).isGreaterThan(rate * 12);
    long slack = maxCompressedSpan();

    executor.runAll();
    for (int second = 1; second <= 10; second++) {
      scheduler.advance(Duration.ofSeconds(1), executor::runAll);

      long bytes = manager.statistics().bytesFetched();
      assertThat(bytes).isAtMost(rate * second + slack);
      assertThat(bytes).isAtLeast(rate * second);
    }
    assertThat(manager.statistics().backgroundSpans())
        .isEqualTo(manager.statistics().spansFetched());
  }

  @Test
  void background_allSpansFetched_leavesQueueAndServesReads() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanEngine engine = engine(options().diskCacheDirectory(root));
    SpanManager manager = engine.openLayer(layer.digest(), layer.ztoc(), source);

    runUntilReady(manager);
    scheduler.advance(Duration.ofSeconds(1), executor::runAll);

    assertThat(engine.backgroundFetcher().isQueued(manager)).isFalse();
    assertThat(source.requestCount()).isEqualTo(layer.spanCount());
    assertThat(manager.statistics().backgroundSpans()).isEqualTo(layer.spanCount());
    assertThat(engine.diskCache().fileCount()).isEqualTo(layer.spanCount());
    assertThat(engine.memoryCache().weightedSizeBytes()).isEqualTo(0);
    ByteBuffer whole = ByteBuffer.allocate((int) manager.size());
    manager.read(0, whole);
    assertThat(whole.array()).isEqualTo(layer.tarRange(0, (int) manager.size()));
    assertThat(source.requestCount()).isEqualTo(layer.spanCount());
    assertThat(manager.statistics().diskHits()).isEqualTo(layer.spanCount());
  }

  @Test
  void background_withoutDiskCache_inflatesIntoMemory() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanEngine engine = engine(options());
    SpanManager manager = engine.openLayer(layer.digest(), layer.ztoc(), source);

    runUntilReady(manager);

    ByteBuffer whole = ByteBuffer.allocate((int) manager.size());
    manager.read(0, whole);
    assertThat(whole.array()).isEqualTo(layer.tarRange(0, (int) manager.size()));
    assertThat(manager.statistics().memoryHits()).isEqualTo(layer.spanCount());
    assertThat(source.requestCount()).isEqualTo(layer.spanCount());
  }

  @Test
  void background_foregroundReadWaiting_pausesUntilItEnds() throws Exception {
    RecordingSource source = new RecordingSource(layer.blob());
    Span foregroundSpan = layer.span(7);
    CountDownLatch foregroundStarted = new CountDownLatch(1);
    CountDownLatch releaseForeground = new CountDownLatch(1);
    source.fault(
        (request, bytes) -> {
          if (request.offset() == foregroundSpan.compressedStart()) {
            foregroundStarted.countDown();
            if (!releaseForeground.await(30, TimeUnit.SECONDS)) {
              throw new IOException("the test never released the foreground read");
            }
          }
          return bytes;
        });
    SpanEngine engine = engine(options());
    SpanManager manager = engine.openLayer(layer.digest(), layer.ztoc(), source);
    Future<Integer> foreground =
        threads.submit(
            () -> manager.read(foregroundSpan.uncompressedStart(), ByteBuffer.allocate(10)));
    assertThat(foregroundStarted.await(30, TimeUnit.SECONDS)).isTrue();

    for (int second = 0; second < 5; second++) {
      executor.runAll();
      scheduler.advance(Duration.ofSeconds(1));
    }
    executor.runAll();
    assertThat(source.requestCount()).isEqualTo(1);
    assertThat(manager.statistics().backgroundSpans()).isEqualTo(0);

    releaseForeground.countDown();
    assertThat(foreground.get(30, TimeUnit.SECONDS)).isEqualTo(10);
    executor.runAll();
    assertThat(manager.statistics().backgroundSpans()).isEqualTo(1);
    runUntilReady(manager);
    assertThat(source.requestCount()).isEqualTo(layer.spanCount());
  }

  @Test
  void background_foregroundWorkOpen_startsNothingUntilClosed() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanEngine engine = engine(options());
    SpanEngine.ForegroundWork work = engine.beginForegroundWork();
    SpanManager manager = engine.openLayer(layer.digest(), layer.ztoc(), source);

    for (int second = 0; second < 5; second++) {
      executor.runAll();
      scheduler.advance(Duration.ofSeconds(1));
    }
    executor.runAll();
    assertThat(source.requestCount()).isEqualTo(0);

    work.close();
    // A second close must not end another piece of foreground work.
    work.close();
    SpanEngine.ForegroundWork other = engine.beginForegroundWork();
    executor.runAll();
    assertThat(source.requestCount()).isEqualTo(0);

    other.close();
    executor.runAll();
    assertThat(manager.statistics().backgroundSpans()).isEqualTo(1);
    runUntilReady(manager);
    assertThat(source.requestCount()).isEqualTo(layer.spanCount());
  }

  @Test
  void background_prefetch_goesFirst() throws Exception {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanEngine engine = engine(options());
    SpanManager manager = engine.openLayer(layer.digest(), layer.ztoc(), source);

    int last = layer.spanCount() - 1;
    CompletableFuture<Void> prefetch = manager.prefetchSpans(last - 2, last);
    executor.runAll();

    assertThat(prefetch.isDone()).isTrue();
    // A prefetch fetches each span with a request of its own.
    List<Long> prefetched = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      prefetched.add(source.requests().get(i).offset());
    }
    assertThat(prefetched)
        .containsExactly(
            layer.span(last - 2).compressedStart(),
            layer.span(last - 1).compressedStart(),
            layer.span(last).compressedStart());
    assertThat(manager.statistics().backgroundSpans()).isEqualTo(1);
    assertThat(source.requests().get(3).offset()).isEqualTo(layer.span(0).compressedStart());
  }

  @Test
  void background_spanInFlight_isSharedWithForegroundRead() throws Exception {
    RecordingSource source = new RecordingSource(layer.blob());
    Span spanZero = layer.span(0);
    CountDownLatch backgroundStarted = new CountDownLatch(1);
    CountDownLatch releaseBackground = new CountDownLatch(1);
    source.fault(
        (request, bytes) -> {
          if (request.offset() == spanZero.compressedStart()) {
            backgroundStarted.countDown();
            if (!releaseBackground.await(30, TimeUnit.SECONDS)) {
              throw new IOException("the test never released the background fetch");
            }
          }
          return bytes;
        });
    SpanEngine engine = engine(options());
    SpanManager manager = engine.openLayer(layer.digest(), layer.ztoc(), source);
    Future<?> background = threads.submit(executor::runAll);
    assertThat(backgroundStarted.await(30, TimeUnit.SECONDS)).isTrue();

    ByteBuffer other = ByteBuffer.allocate(10);
    manager.read(layer.span(9).uncompressedStart(), other);
    Future<Integer> sameSpan = threads.submit(() -> manager.read(0, ByteBuffer.allocate(10)));

    assertThat(other.array()).isEqualTo(layer.tarRange(layer.span(9).uncompressedStart(), 10));
    assertThat(manager.state(0)).isEqualTo(SpanState.FETCHING);
    releaseBackground.countDown();
    assertThat(sameSpan.get(30, TimeUnit.SECONDS)).isEqualTo(10);
    background.get(30, TimeUnit.SECONDS);
    assertThat(source.requestsAt(spanZero.compressedStart())).isEqualTo(1);
  }

  @Test
  void background_layerReleased_stops() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanEngine engine = engine(options().backgroundBytesPerSecond(40_000));
    SpanManager manager = engine.openLayer(layer.digest(), layer.ztoc(), source);
    executor.runAll();
    scheduler.advance(Duration.ofSeconds(2));
    executor.runAll();
    int requests = source.requestCount();
    assertThat(requests).isGreaterThan(0);

    manager.close();
    for (int second = 0; second < 60; second++) {
      scheduler.advance(Duration.ofSeconds(1));
      executor.runAll();
    }

    assertThat(source.requestCount()).isEqualTo(requests);
    assertThat(engine.backgroundFetcher().isQueued(manager)).isFalse();
  }

  @Test
  void background_failedFetch_dropsLayerButReadsWork() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    long failing = layer.span(2).compressedStart();
    source.fault(
        (request, bytes) -> {
          if (request.offset() == failing) {
            throw new IOException("registry unavailable");
          }
          return bytes;
        });
    SpanEngine engine = engine(options());
    SpanManager manager = engine.openLayer(layer.digest(), layer.ztoc(), source);

    for (int second = 0; second < 10; second++) {
      executor.runAll();
      scheduler.advance(Duration.ofSeconds(1));
    }

    assertThat(manager.state(2)).isEqualTo(SpanState.FAILED);
    assertThat(manager.state(3)).isEqualTo(SpanState.NOT_REQUESTED);
    assertThat(engine.backgroundFetcher().isQueued(manager)).isFalse();
    source.fault((request, bytes) -> bytes);
    ByteBuffer buffer = ByteBuffer.allocate(10);
    manager.read(layer.span(2).uncompressedStart(), buffer);
    assertThat(buffer.array()).isEqualTo(layer.tarRange(layer.span(2).uncompressedStart(), 10));
  }

  @Test
  void background_failedFetch_logsErrorWithoutStack() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    long failing = layer.span(1).compressedStart();
    source.fault(
        (request, bytes) -> {
          if (request.offset() == failing) {
            throw new IOException("registry unavailable");
          }
          return bytes;
        });
    ch.qos.logback.classic.Logger logger =
        (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(BackgroundFetcher.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      SpanEngine engine = engine(options());
      engine.openLayer(layer.digest(), layer.ztoc(), source);
      for (int second = 0; second < 3; second++) {
        executor.runAll();
        scheduler.advance(Duration.ofSeconds(1));
      }
    } finally {
      logger.detachAppender(appender);
    }

    List<ILoggingEvent> warnings =
        appender.list.stream().filter(event -> event.getLevel() == Level.WARN).toList();
    assertThat(warnings).hasSize(1);
    assertThat(warnings.get(0).getThrowableProxy()).isNull();
    assertThat(
            warnings.get(0).getKeyValuePairs().stream()
                .filter(pair -> pair.key.equals("error"))
                .map(pair -> String.valueOf(pair.value))
                .toList())
        .containsExactly("java.io.IOException: registry unavailable");
  }

  @Test
  void background_fullQueue_dropsNewestLayer() throws IOException {
    RandomLayer other = RandomLayer.gzip(32, 4, 80 * 1024);
    SpanEngine engine = engine(options().backgroundQueueLimit(1));
    SpanManager first =
        engine.openLayer(layer.digest(), layer.ztoc(), new RecordingSource(layer.blob()));
    RecordingSource otherSource = new RecordingSource(other.blob());
    SpanManager second = engine.openLayer(other.digest(), other.ztoc(), otherSource);

    runUntilReady(first);
    scheduler.advance(Duration.ofSeconds(5), executor::runAll);

    assertThat(engine.backgroundQueueEvictions()).isEqualTo(1);
    assertThat(engine.backgroundFetcher().isQueued(second)).isFalse();
    assertThat(otherSource.requestCount()).isEqualTo(0);
    assertThat(second.statistics().backgroundSpans()).isEqualTo(0);
  }

  @Test
  void background_fullQueue_dropOldest_keepsNewLayer() throws IOException {
    RandomLayer other = RandomLayer.gzip(33, 4, 80 * 1024);
    SpanEngine engine = engine(options().backgroundQueueLimit(1).backgroundDropOldest(true));
    RecordingSource firstSource = new RecordingSource(layer.blob());
    SpanManager first = engine.openLayer(layer.digest(), layer.ztoc(), firstSource);
    SpanManager second =
        engine.openLayer(other.digest(), other.ztoc(), new RecordingSource(other.blob()));

    assertThat(engine.backgroundQueueLength()).isEqualTo(1);
    runUntilReady(second);

    assertThat(engine.backgroundQueueEvictions()).isEqualTo(1);
    assertThat(engine.backgroundFetcher().isQueued(first)).isFalse();
    assertThat(firstSource.requestCount()).isEqualTo(0);
    assertThat(second.statistics().backgroundSpans()).isEqualTo(other.spanCount());
  }

  @Test
  void background_silence_holdsStartsForThePeriod() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanEngine engine = engine(options().backgroundSilence(Duration.ofSeconds(30)));
    engine.silenceBackground();
    SpanManager manager = engine.openLayer(layer.digest(), layer.ztoc(), source);

    for (int second = 0; second < 29; second++) {
      executor.runAll();
      scheduler.advance(Duration.ofSeconds(1));
    }
    executor.runAll();
    assertThat(source.requestCount()).isEqualTo(0);

    scheduler.advance(Duration.ofSeconds(2), executor::runAll);
    assertThat(source.requestCount()).isAtLeast(1);
    runUntilReady(manager);
    assertThat(manager.statistics().backgroundSpans()).isEqualTo(layer.spanCount());
  }

  @Test
  void background_silence_doesNotHoldReads() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    SpanEngine engine = engine(options().backgroundSilence(Duration.ofSeconds(30)));
    engine.silenceBackground();
    SpanManager manager = engine.openLayer(layer.digest(), layer.ztoc(), source);
    Span span = layer.span(3);

    ByteBuffer bytes = ByteBuffer.allocate(10);
    manager.read(span.uncompressedStart(), bytes);

    assertThat(bytes.array()).isEqualTo(layer.tarRange((int) span.uncompressedStart(), 10));
    assertThat(source.requestCount()).isEqualTo(1);
    assertThat(manager.statistics().backgroundSpans()).isEqualTo(0);
  }

  @Test
  void diskCachedSpans_countAsCachedAfterRestart() throws IOException {
    SpanEngine first = engine(options().diskCacheDirectory(root));
    SpanManager fetched =
        first.openLayer(layer.digest(), layer.ztoc(), new RecordingSource(layer.blob()));
    runUntilReady(fetched);
    first.close();

    RecordingSource source = new RecordingSource(layer.blob());
    SpanEngine second = engine(options().diskCacheDirectory(root).backgroundFetch(false));
    SpanManager reopened = second.openLayer(layer.digest(), layer.ztoc(), source);

    for (int id = 0; id < reopened.spanCount(); id++) {
      assertWithMessage("span %s", id).that(reopened.isCached(id)).isTrue();
      assertWithMessage("span %s", id)
          .that(reopened.state(id))
          .isAnyOf(SpanState.NOT_REQUESTED, SpanState.READY);
    }
    assertThat(source.requestCount()).isEqualTo(0);
  }

  @Test
  void background_registryOutage_resumesAfterRetryDelay() throws IOException {
    RecordingSource source = new RecordingSource(layer.blob());
    AtomicBoolean down = new AtomicBoolean(true);
    source.fault(
        (request, bytes) -> {
          if (down.get()) {
            throw new IOException("connection refused (test outage)");
          }
          return bytes;
        });
    SpanEngine engine = engine(options());
    SpanManager manager = engine.openLayer(layer.digest(), layer.ztoc(), source);
    executor.runAll();
    assertThat(engine.backgroundFetcher().isQueued(manager)).isFalse();

    down.set(false);
    scheduler.advance(BackgroundFetcher.FIRST_RETRY_DELAY.minusSeconds(1), executor::runAll);
    int requestsBeforeRetry = source.requestCount();
    scheduler.advance(Duration.ofSeconds(2), executor::runAll);
    runUntilReady(manager);

    assertThat(requestsBeforeRetry).isEqualTo(1);
    assertThat(manager.statistics().backgroundSpans()).isEqualTo(layer.spanCount());
  }

  @Test
  void background_failedReadSpan_isFetched() throws Exception {
    RecordingSource source = new RecordingSource(layer.blob());
    Span failing = layer.span(3);
    AtomicBoolean down = new AtomicBoolean(true);
    source.fault(
        (request, bytes) -> {
          if (down.get() && request.offset() == failing.compressedStart()) {
            throw new IOException("connection refused (test outage)");
          }
          return bytes;
        });
    SpanEngine engine = engine(options());
    SpanManager manager = engine.openLayer(layer.digest(), layer.ztoc(), source);

    assertThrows(
        IOException.class,
        () -> manager.read(failing.uncompressedStart(), ByteBuffer.allocate(10)));
    assertThat(manager.state(3)).isEqualTo(SpanState.FAILED);
    down.set(false);
    runUntilReady(manager);

    assertThat(manager.statistics().backgroundSpans()).isEqualTo(layer.spanCount());
  }
}
