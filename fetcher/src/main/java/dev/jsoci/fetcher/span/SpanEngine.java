package dev.jsoci.fetcher.span;

import dev.jsoci.oci.Digest;
import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.Zinfos;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocFormatException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Opens the {@link SpanManager} of each layer in use and owns what they share: the memory and disk
 * span caches, the background fetcher, the fetch threads and the engine-wide statistics.
 *
 * <p>One engine serves a whole daemon. Thread-safe.
 */
public final class SpanEngine implements AutoCloseable {
  private final SpanOptions options;
  private final MemorySpanCache memory;
  private final @Nullable DiskSpanCache disk;
  private final Executor executor;
  private final @Nullable ExecutorService ownedExecutor;
  private final ForegroundActivity foreground = new ForegroundActivity();
  private final FetchMemoryBudget fetchMemory;
  private final @Nullable BackgroundFetcher background;
  private final FetchCounters counters;
  private final Set<SpanManager> openLayers = ConcurrentHashMap.newKeySet();

  private SpanEngine(SpanOptions options, @Nullable DiskSpanCache disk, SpanListener listener) {
    this.options = options;
    this.counters = new FetchCounters(listener);
    this.memory =
        new MemorySpanCache(options.memoryCacheBytes(), ForkJoinPool.commonPool(), listener);
    this.disk = disk;
    this.fetchMemory = new FetchMemoryBudget(options.fetchMemoryBytes());
    Executor given = options.fetchExecutor();
    this.ownedExecutor = given == null ? Executors.newCachedThreadPool(new FetchThreads()) : null;
    this.executor = given != null ? given : ownedExecutor;
    this.background =
        options.backgroundFetch()
            ? new BackgroundFetcher(
                options.backgroundBytesPerSecond(),
                options.backgroundConcurrency(),
                options.backgroundQueueLimit(),
                options.backgroundDropOldest(),
                options.backgroundSilence(),
                options.ticker(),
                options.scheduler(),
                executor,
                foreground)
            : null;
  }

  /**
   * Starts an engine. With a disk cache directory, opens the disk cache first, which discards what
   * a crash left there and reads every span file once.
   *
   * @throws IOException if the disk cache directory cannot be created or read
   */
  public static SpanEngine start(SpanOptions options) throws IOException {
    return start(options, SpanListener.NONE);
  }

  /**
   * Starts an engine like {@link #start(SpanOptions)} that reports its span work, cache look-ups
   * and evictions to {@code listener}.
   *
   * @throws IOException if the disk cache directory cannot be created or read
   */
  public static SpanEngine start(SpanOptions options, SpanListener listener) throws IOException {
    Path directory = options.diskCacheDirectory();
    DiskSpanCache disk =
        directory == null
            ? null
            : DiskSpanCache.open(directory, options.diskCacheBytes(), listener);
    return new SpanEngine(options, disk, listener);
  }

  /**
   * Opens a layer for reading and, when background fetching is on, queues its spans. Each call
   * returns a new manager, with its own span states, sharing the caches with every other.
   *
   * @param layer the digest of the layer blob, the cache key of its spans
   * @param ztoc the layer's zTOC
   * @param source the compressed bytes of the layer blob
   * @throws ZtocFormatException if the zTOC's spans are inconsistent, a span digest is invalid, or
   *     a span is too large to hold in one array
   */
  public SpanManager openLayer(Digest layer, Ztoc ztoc, BlobRangeSource source)
      throws ZtocFormatException {
    Zinfo zinfo = Zinfos.of(ztoc, layer.toString());
    List<Digest> spanDigests = parseSpanDigests(layer, ztoc);
    checkSpans(layer, zinfo, ztoc.uncompressedArchiveSize());

    SpanManager manager =
        new SpanManager(
            layer,
            zinfo,
            spanDigests,
            ztoc.uncompressedArchiveSize(),
            source,
            memory,
            disk,
            options,
            executor,
            foreground,
            fetchMemory,
            counters,
            this::release);
    openLayers.add(manager);
    if (background != null) {
      background.add(manager);
    }
    return manager;
  }

  private static List<Digest> parseSpanDigests(Digest layer, Ztoc ztoc) throws ZtocFormatException {
    List<Digest> digests = new ArrayList<>(ztoc.spanDigests().size());
    for (int id = 0; id < ztoc.spanDigests().size(); id++) {
      try {
        digests.add(Digest.parse(ztoc.spanDigests().get(id)));
      } catch (IllegalArgumentException e) {
        throw new ZtocFormatException(
            "invalid ztoc " + layer + ": span " + id + ": " + e.getMessage(), e);
      }
    }
    return digests;
  }

  /** Checks that every span fits one array and that the spans reach the archive's end. */
  private static void checkSpans(Digest layer, Zinfo zinfo, long archiveSize)
      throws ZtocFormatException {
    if (zinfo.maxSpanId() < 0) {
      if (archiveSize > 0) {
        throw new ZtocFormatException(
            "invalid ztoc " + layer + ": no spans for an archive of " + archiveSize + " bytes");
      }
      return;
    }
    for (int id = 0; id <= zinfo.maxSpanId(); id++) {
      Span span = zinfo.span(id);
      boolean holdsData = span.uncompressedLength() > 0;
      if (span.compressedLength() > SpanOptions.MAX_REQUEST_BYTES_LIMIT
          || span.uncompressedLength() > SpanOptions.MAX_REQUEST_BYTES_LIMIT
          || (holdsData && span.compressedLength() <= 0)) {
        throw new ZtocFormatException(
            "invalid ztoc "
                + layer
                + ": span "
                + id
                + " has "
                + span.compressedLength()
                + " compressed and "
                + span.uncompressedLength()
                + " uncompressed bytes");
      }
    }
  }

  private void release(SpanManager manager) {
    openLayers.remove(manager);
    if (background != null) {
      background.remove(manager);
    }
  }

  /** Returns the counts of the span work of every layer opened so far, closed ones included. */
  public FetchStatistics statistics() {
    return counters.snapshot();
  }

  /** Work that a container waits for, counted as foreground activity until it is closed. */
  public interface ForegroundWork extends AutoCloseable {
    /** Ends the work; later calls do nothing. */
    @Override
    void close();
  }

  /**
   * Counts work outside the span reads that a container waits for as foreground activity, such as
   * reading a zTOC while containerd prepares a layer. The background fetcher starts no span until
   * the returned handle is closed, so that the work has the link to itself.
   */
  public ForegroundWork beginForegroundWork() {
    foreground.begin();
    AtomicBoolean ended = new AtomicBoolean();
    return () -> {
      if (ended.compareAndSet(false, true)) {
        foreground.end();
      }
    };
  }

  /**
   * Delays the background fetcher's next start by {@link SpanOptions#backgroundSilence()} from now,
   * so that the reads of a container that starts have the link to themselves. Fetches in flight
   * complete, and reads are never held. Does nothing without background fetching.
   */
  public void silenceBackground() {
    if (background != null) {
      background.silence();
    }
  }

  /** Returns the number of layers queued for background fetching now; 0 without it. */
  public int backgroundQueueLength() {
    return background == null ? 0 : background.queueLength();
  }

  /**
   * Returns the number of layers not fetched in the background because the queue was full, since
   * the engine started.
   */
  public long backgroundQueueEvictions() {
    return background == null ? 0 : background.evictions();
  }

  /** Returns the layers open now, in no particular order. */
  public List<SpanManager> openLayers() {
    return List.copyOf(openLayers);
  }

  /** Returns the bytes of inflated spans held in memory now, entry overhead included. */
  public long memoryCacheSizeBytes() {
    return memory.weightedSizeBytes();
  }

  /** Returns the bytes of the span files on disk now, or empty without a disk cache. */
  public OptionalLong diskCacheSizeBytes() {
    return disk == null ? OptionalLong.empty() : OptionalLong.of(disk.sizeBytes());
  }

  FetchMemoryBudget fetchMemory() {
    return fetchMemory;
  }

  MemorySpanCache memoryCache() {
    return memory;
  }

  @Nullable DiskSpanCache diskCache() {
    return disk;
  }

  @Nullable BackgroundFetcher backgroundFetcher() {
    return background;
  }

  /**
   * Releases every open layer and stops the background fetcher. Fetches in flight complete; an
   * executor the engine created is shut down without waiting for them.
   */
  @Override
  public void close() {
    if (background != null) {
      background.close();
    }
    for (SpanManager manager : List.copyOf(openLayers)) {
      manager.close();
    }
    if (ownedExecutor != null) {
      ownedExecutor.shutdown();
    }
  }

  /** Daemon threads named {@code jsoci-span-fetch-N}, so they never keep the JVM alive. */
  private static final class FetchThreads implements ThreadFactory {
    private final AtomicInteger count = new AtomicInteger();

    @Override
    public Thread newThread(Runnable task) {
      Thread thread = new Thread(task, "jsoci-span-fetch-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    }
  }
}
