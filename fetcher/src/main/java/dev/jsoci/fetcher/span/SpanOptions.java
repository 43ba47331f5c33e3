package dev.jsoci.fetcher.span;

import com.github.benmanes.caffeine.cache.Scheduler;
import com.github.benmanes.caffeine.cache.Ticker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;

/**
 * Settings of a {@link SpanEngine}. Build with {@link #builder()}; every setting has a default.
 *
 * @param verifySpans whether each span's compressed bytes are checked against the zTOC's span
 *     digest before use
 * @param verificationRetries how many more times a span is fetched after a digest mismatch before
 *     the read fails
 * @param maxRequestBytes the largest ranged request for a run of adjacent spans. A longer run is
 *     split, but a single span larger than this is still fetched in one request
 * @param memoryCacheBytes the cap on inflated spans held in memory across all layers, beyond the 4
 *     most recently used spans, which are kept as well; 0 keeps none
 * @param diskCacheDirectory the root of the on-disk span cache, or null for none
 * @param diskCacheBytes the cap on the span files under {@code diskCacheDirectory}
 * @param backgroundFetch whether the remaining spans of open layers are fetched in the background
 * @param backgroundBytesPerSecond the background fetch rate in compressed bytes per second, for all
 *     layers together
 * @param backgroundConcurrency the most background span fetches in flight at once
 * @param backgroundQueueLimit the most layers queued for background fetching, or -1 for no limit. A
 *     layer that does not fit is not fetched in the background; reads still fetch its spans
 * @param backgroundDropOldest which layer a full background queue gives up: the layer at its head
 *     when true, else the layer being added
 * @param backgroundSilence how long the background fetcher starts nothing after {@link
 *     SpanEngine#silenceBackground()}; {@link Duration#ZERO} for no pause
 * @param ticker the time source of the background rate limit, in nanoseconds
 * @param scheduler runs the background fetcher again when the rate limit allows the next fetch
 * @param readaheadSpans how many spans after the current one a sequential reader fetches ahead, in
 *     parallel with its own reads; 0 turns readahead off. A read is sequential when it is the
 *     layer's first, or starts in the span where the previous read of the layer ended or in the
 *     span after it
 * @param fetchMemoryBytes the cap on the heap that span work in progress uses at once, summed over
 *     every fetch, disk cache load and inflation: twice the compressed bytes plus the inflated
 *     bytes of each. Work beyond the cap waits, and a single span larger than the cap runs alone.
 *     Reads may use a reserve of half the cap on top when other work has spent it
 * @param fetchExecutor runs background fetches, prefetches and the extra requests of a read that
 *     needs several runs of spans. When null, the engine creates a pool of daemon threads and shuts
 *     it down on close
 */
public record SpanOptions(
    boolean verifySpans,
    int verificationRetries,
    long maxRequestBytes,
    long memoryCacheBytes,
    @Nullable Path diskCacheDirectory,
    long diskCacheBytes,
    boolean backgroundFetch,
    long backgroundBytesPerSecond,
    int backgroundConcurrency,
    int backgroundQueueLimit,
    boolean backgroundDropOldest,
    Duration backgroundSilence,
    int readaheadSpans,
    long fetchMemoryBytes,
    Ticker ticker,
    Scheduler scheduler,
    @Nullable Executor fetchExecutor) {

  /** The largest request whose bytes fit in one Java array. */
  static final long MAX_REQUEST_BYTES_LIMIT = Integer.MAX_VALUE - 16;

  public SpanOptions {
    if (verificationRetries < 0) {
      throw new IllegalArgumentException(
          "verificationRetries must not be negative, found " + verificationRetries);
    }
    if (maxRequestBytes <= 0 || maxRequestBytes > MAX_REQUEST_BYTES_LIMIT) {
      throw new IllegalArgumentException(
          "maxRequestBytes must be between 1 and "
              + MAX_REQUEST_BYTES_LIMIT
              + ", found "
              + maxRequestBytes);
    }
    if (memoryCacheBytes < 0) {
      throw new IllegalArgumentException(
          "memoryCacheBytes must not be negative, found " + memoryCacheBytes);
    }
    if (diskCacheBytes < 0) {
      throw new IllegalArgumentException(
          "diskCacheBytes must not be negative, found " + diskCacheBytes);
    }
    if (backgroundBytesPerSecond <= 0) {
      throw new IllegalArgumentException(
          "backgroundBytesPerSecond must be positive, found " + backgroundBytesPerSecond);
    }
    if (backgroundConcurrency <= 0) {
      throw new IllegalArgumentException(
          "backgroundConcurrency must be positive, found " + backgroundConcurrency);
    }
    if (backgroundQueueLimit < -1 || backgroundQueueLimit == 0) {
      throw new IllegalArgumentException(
          "backgroundQueueLimit must be positive or -1, found " + backgroundQueueLimit);
    }
    if (Objects.requireNonNull(backgroundSilence, "backgroundSilence").isNegative()) {
      throw new IllegalArgumentException(
          "backgroundSilence must not be negative, found " + backgroundSilence);
    }
    if (fetchMemoryBytes < 1024) {
      throw new IllegalArgumentException(
          "fetchMemoryBytes must be at least 1024, found " + fetchMemoryBytes);
    }
    if (readaheadSpans < 0) {
      throw new IllegalArgumentException(
          "readaheadSpans must not be negative, found " + readaheadSpans);
    }
    Objects.requireNonNull(ticker, "ticker");
    Objects.requireNonNull(scheduler, "scheduler");
  }

  /** Returns an eighth of the maximum heap, kept between 8 MiB and 256 MiB. */
  static long defaultFetchMemoryBytes() {
    long eighth = Runtime.getRuntime().maxMemory() / 8;
    return Math.max(8L << 20, Math.min(256L << 20, eighth));
  }

  /** Returns the default options: {@code builder().build()}. */
  public static SpanOptions defaults() {
    return builder().build();
  }

  /**
   * Returns a builder with the defaults. Spans are verified, with one refetch after a digest
   * mismatch, and requests are at most 32 MiB. The memory cache keeps 256 MiB of inflated spans,
   * and there is no disk cache (8 GiB when a directory is set). Background fetching runs at 4 MiB/s
   * with 2 fetches in flight, on the system ticker and scheduler, with no queue limit and no
   * silence. There is no readahead. Span work in progress may hold an eighth of the JVM's maximum
   * heap, between 8 MiB and 256 MiB.
   */
  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder()
        .verifySpans(verifySpans)
        .verificationRetries(verificationRetries)
        .maxRequestBytes(maxRequestBytes)
        .memoryCacheBytes(memoryCacheBytes)
        .diskCacheDirectory(diskCacheDirectory)
        .diskCacheBytes(diskCacheBytes)
        .backgroundFetch(backgroundFetch)
        .backgroundBytesPerSecond(backgroundBytesPerSecond)
        .backgroundConcurrency(backgroundConcurrency)
        .backgroundQueueLimit(backgroundQueueLimit)
        .backgroundDropOldest(backgroundDropOldest)
        .backgroundSilence(backgroundSilence)
        .readaheadSpans(readaheadSpans)
        .fetchMemoryBytes(fetchMemoryBytes)
        .ticker(ticker)
        .scheduler(scheduler)
        .fetchExecutor(fetchExecutor);
  }

  /** Builds {@link SpanOptions}; each method sets the record component of the same name. */
  public static final class Builder {
    private boolean verifySpans = true;
    private int verificationRetries = 1;
    private long maxRequestBytes = 32L << 20;
    private long memoryCacheBytes = 256L << 20;
    private @Nullable Path diskCacheDirectory;
    private long diskCacheBytes = 8L << 30;
    private boolean backgroundFetch = true;
    private long backgroundBytesPerSecond = 4L << 20;
    private int backgroundConcurrency = 2;
    private int backgroundQueueLimit = -1;
    private boolean backgroundDropOldest = false;
    private Duration backgroundSilence = Duration.ZERO;
    private int readaheadSpans = 0;
    private long fetchMemoryBytes = defaultFetchMemoryBytes();
    private Ticker ticker = Ticker.systemTicker();
    private Scheduler scheduler = Scheduler.systemScheduler();
    private @Nullable Executor fetchExecutor;

    private Builder() {}

    public Builder verifySpans(boolean verifySpans) {
      this.verifySpans = verifySpans;
      return this;
    }

    public Builder verificationRetries(int verificationRetries) {
      this.verificationRetries = verificationRetries;
      return this;
    }

    public Builder maxRequestBytes(long maxRequestBytes) {
      this.maxRequestBytes = maxRequestBytes;
      return this;
    }

    public Builder memoryCacheBytes(long memoryCacheBytes) {
      this.memoryCacheBytes = memoryCacheBytes;
      return this;
    }

    public Builder diskCacheDirectory(@Nullable Path diskCacheDirectory) {
      this.diskCacheDirectory = diskCacheDirectory;
      return this;
    }

    public Builder diskCacheBytes(long diskCacheBytes) {
      this.diskCacheBytes = diskCacheBytes;
      return this;
    }

    public Builder backgroundFetch(boolean backgroundFetch) {
      this.backgroundFetch = backgroundFetch;
      return this;
    }

    public Builder backgroundBytesPerSecond(long backgroundBytesPerSecond) {
      this.backgroundBytesPerSecond = backgroundBytesPerSecond;
      return this;
    }

    public Builder backgroundConcurrency(int backgroundConcurrency) {
      this.backgroundConcurrency = backgroundConcurrency;
      return this;
    }

    public Builder backgroundQueueLimit(int backgroundQueueLimit) {
      this.backgroundQueueLimit = backgroundQueueLimit;
      return this;
    }

    public Builder backgroundDropOldest(boolean backgroundDropOldest) {
      this.backgroundDropOldest = backgroundDropOldest;
      return this;
    }

    public Builder backgroundSilence(Duration backgroundSilence) {
      this.backgroundSilence = backgroundSilence;
      return this;
    }

    public Builder readaheadSpans(int readaheadSpans) {
      this.readaheadSpans = readaheadSpans;
      return this;
    }

    public Builder fetchMemoryBytes(long fetchMemoryBytes) {
      this.fetchMemoryBytes = fetchMemoryBytes;
      return this;
    }

    public Builder ticker(Ticker ticker) {
      this.ticker = ticker;
      return this;
    }

    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = scheduler;
      return this;
    }

    public Builder fetchExecutor(@Nullable Executor fetchExecutor) {
      this.fetchExecutor = fetchExecutor;
      return this;
    }

    public SpanOptions build() {
      return new SpanOptions(
          verifySpans,
          verificationRetries,
          maxRequestBytes,
          memoryCacheBytes,
          diskCacheDirectory,
          diskCacheBytes,
          backgroundFetch,
          backgroundBytesPerSecond,
          backgroundConcurrency,
          backgroundQueueLimit,
          backgroundDropOldest,
          backgroundSilence,
          readaheadSpans,
          fetchMemoryBytes,
          ticker,
          scheduler,
          fetchExecutor);
    }
  }
}
