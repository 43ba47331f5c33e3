package dev.jsoci.fetcher.span;

import dev.jsoci.fetcher.span.SpanTable.Ticket;
import dev.jsoci.oci.Digest;
import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.Zinfo;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * Serves reads of one layer's tar stream by fetching, verifying, inflating and caching only the
 * spans each read needs. Open one with {@link SpanEngine#openLayer}.
 *
 * <h2>Read path</h2>
 *
 * <p>A read of {@code [offset, offset + length)} needs spans {@code spanOf(offset)} to {@code
 * spanOf(offset + length - 1)}. Spans in the memory cache are used at once. For the others, one
 * acquisition of the {@link SpanTable} lock decides per span whether the reader joins the fetch in
 * flight or owns a new one. Owned spans come from the disk cache when it contains them, else from
 * the source, one request per run of adjacent spans. The reader then waits for exactly the spans it
 * needs, so a slow fetch of a span it does not need never delays it.
 *
 * <p>Thread-safe: any number of threads may read at once. Closing releases the layer: the
 * background fetcher drops it and later reads fail, while reads in progress complete.
 */
public final class SpanManager implements AutoCloseable {
  /** The result of {@link #readIfInMemory} when a span of the range is not in memory. */
  public static final int NOT_IN_MEMORY = -2;

  private final Digest layer;
  private final Zinfo zinfo;
  private final long archiveSize;
  private final SpanTable table;
  private final SpanLoader loader;
  private final MemorySpanCache memory;
  private final @Nullable DiskSpanCache disk;
  private final Executor executor;
  private final ForegroundActivity foreground;
  private final FetchMemoryBudget fetchMemory;
  private final FetchCounters counters;
  private final Consumer<SpanManager> onClose;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final int readaheadSpans;

  /** The value of {@link #lastReadSpan} before the layer's first read. */
  private static final int NO_READ = -1;

  /**
   * The maximum number of times a read loads its spans when one of them dies before the read
   * retains it (see {@link #inflatedSpans}). The second round normally inflates it anew.
   */
  private static final int MAX_LOAD_ROUNDS = 4;

  /** The last span of the latest read, by which sequential reads are told from random ones. */
  private final AtomicInteger lastReadSpan = new AtomicInteger(NO_READ);

  SpanManager(
      Digest layer,
      Zinfo zinfo,
      List<Digest> spanDigests,
      long archiveSize,
      BlobRangeSource source,
      MemorySpanCache memory,
      @Nullable DiskSpanCache disk,
      SpanOptions options,
      Executor executor,
      ForegroundActivity foreground,
      FetchMemoryBudget fetchMemory,
      FetchCounters engineCounters,
      Consumer<SpanManager> onClose) {
    this.layer = layer;
    this.zinfo = zinfo;
    this.archiveSize = archiveSize;
    this.memory = memory;
    this.disk = disk;
    this.executor = executor;
    this.foreground = foreground;
    this.fetchMemory = fetchMemory;
    this.counters = new FetchCounters(engineCounters);
    this.onClose = onClose;
    this.readaheadSpans = options.readaheadSpans();

    boolean[] empty = new boolean[zinfo.maxSpanId() + 1];
    for (int id = 0; id < empty.length; id++) {
      empty[id] = zinfo.span(id).uncompressedLength() == 0;
    }
    this.table = new SpanTable(layer.toString(), empty);
    this.loader =
        new SpanLoader(
            layer,
            zinfo,
            spanDigests,
            source,
            memory,
            disk,
            options,
            executor,
            fetchMemory,
            counters,
            table);
  }

  /** Returns the layer's digest. */
  public Digest layer() {
    return layer;
  }

  /** Returns the size of the readable tar stream: the zTOC's uncompressed archive size. */
  public long size() {
    return archiveSize;
  }

  /** Returns the number of spans of the layer. */
  public int spanCount() {
    return zinfo.maxSpanId() + 1;
  }

  /**
   * Returns the state of span {@code spanId}.
   *
   * @throws IndexOutOfBoundsException unless {@code 0 <= spanId < spanCount()}
   */
  public SpanState state(int spanId) {
    Objects.checkIndex(spanId, spanCount());
    return table.state(spanId);
  }

  /**
   * Returns whether span {@code spanId} can be read without a request: the memory or the disk cache
   * contains it, whether this manager fetched it or, as for the disk cache after a restart, an
   * earlier one did. A {@link SpanState#READY} span that the caches have evicted since does not
   * count. Empty spans count as cached.
   *
   * @throws IndexOutOfBoundsException unless {@code 0 <= spanId < spanCount()}
   */
  public boolean isCached(int spanId) {
    SpanState state = state(spanId);
    if (zinfo.span(spanId).uncompressedLength() == 0) {
      return true;
    }
    if (state == SpanState.FETCHING) {
      return false;
    }
    return (disk != null && disk.contains(layer, spanId)) || memory.contains(loader.keyOf(spanId));
  }

  /** Returns the counts of this layer's span work so far. */
  public FetchStatistics statistics() {
    return counters.snapshot();
  }

  /**
   * Reads tar bytes from {@code uncompressedOffset} into {@code destination}, as many as it has
   * room for or up to {@link #size()}, and advances its position. Blocks until every span the range
   * needs is available.
   *
   * @param uncompressedOffset an offset in the layer's tar stream
   * @return the number of bytes read, 0 when {@code destination} has no room, or -1 when {@code
   *     uncompressedOffset} is at or past {@link #size()}
   * @throws dev.jsoci.ztoc.SpanDigestMismatchException if a span still mismatches its digest after
   *     the configured refetches; the message names the layer and the span
   * @throws LayerClosedException if the layer was released
   * @throws InterruptedIOException if the thread is interrupted while it waits for a span
   * @throws IOException if a fetch or the inflation of a span fails; the span is fetched again by
   *     the next read that needs it
   */
  public int read(long uncompressedOffset, ByteBuffer destination) throws IOException {
    checkReadable(uncompressedOffset);
    if (!destination.hasRemaining()) {
      return 0;
    }
    if (uncompressedOffset >= archiveSize) {
      return -1;
    }

    ReadRange range = rangeOf(uncompressedOffset, destination);
    Readahead readahead = new Readahead(spansToReadAhead(range));
    InflatedSpan[] spans;
    try {
      spans = inflatedSpans(range.spanIds(), readahead);
    } finally {
      readahead.run();
    }
    try {
      copyRange(range, spans, destination);
    } finally {
      releaseAll(spans);
    }
    return range.length();
  }

  /**
   * Reads as {@link #read} does when every span of the range is inflated in the memory cache, and
   * returns {@link #NOT_IN_MEMORY} without blocking, fetching or changing {@code destination}
   * otherwise. A hit counts as a read: it starts readahead as {@link #read} does.
   *
   * @throws LayerClosedException if the layer was released
   */
  public int readIfInMemory(long uncompressedOffset, ByteBuffer destination)
      throws LayerClosedException {
    checkReadable(uncompressedOffset);
    if (!destination.hasRemaining()) {
      return 0;
    }
    if (uncompressedOffset >= archiveSize) {
      return -1;
    }

    ReadRange range = rangeOf(uncompressedOffset, destination);
    int[] spanIds = range.spanIds();
    InflatedSpan[] spans = new InflatedSpan[spanIds.length];
    try {
      for (int i = 0; i < spanIds.length; i++) {
        spans[i] = memory.get(loader.keyOf(spanIds[i]));
        if (spans[i] == null) {
          return NOT_IN_MEMORY;
        }
      }
      for (int i = 0; i < spanIds.length; i++) {
        counters.memoryHit();
      }
      new Readahead(spansToReadAhead(range)).run();
      copyRange(range, spans, destination);
    } finally {
      releaseAll(spans);
    }
    return range.length();
  }

  /**
   * The tar range {@code [start, end)} of one read and its spans, {@code firstSpan} to {@code
   * lastSpan}. {@code spanIds} lists those of them that contain tar bytes.
   */
  private record ReadRange(long start, long end, int firstSpan, int lastSpan, int[] spanIds) {
    int length() {
      return (int) (end - start);
    }
  }

  /**
   * Returns the range that {@code destination} has room for from {@code uncompressedOffset}, up to
   * the end of the tar stream. The offset must lie before that end.
   */
  private ReadRange rangeOf(long uncompressedOffset, ByteBuffer destination) {
    long end = Math.min(archiveSize, uncompressedOffset + destination.remaining());
    int firstSpan = zinfo.spanOf(uncompressedOffset);
    int lastSpan = zinfo.spanOf(end - 1);
    return new ReadRange(
        uncompressedOffset, end, firstSpan, lastSpan, nonEmptySpans(firstSpan, lastSpan));
  }

  private void checkReadable(long uncompressedOffset) throws LayerClosedException {
    if (uncompressedOffset < 0) {
      throw new IllegalArgumentException(
          "uncompressedOffset must not be negative, found " + uncompressedOffset);
    }
    checkOpen();
  }

  /** Copies the range out of its spans, given in the order of its {@code spanIds}. */
  private void copyRange(ReadRange range, InflatedSpan[] spans, ByteBuffer destination) {
    int[] spanIds = range.spanIds();
    for (int i = 0; i < spanIds.length; i++) {
      Span span = zinfo.span(spanIds[i]);
      long spanFrom = Math.max(range.start(), span.uncompressedStart());
      long spanTo = Math.min(range.end(), span.uncompressedEnd());
      if (spanFrom < spanTo) {
        spans[i].copyTo(
            (int) (spanFrom - span.uncompressedStart()), destination, (int) (spanTo - spanFrom));
      }
    }
  }

  private static void releaseAll(@Nullable InflatedSpan[] spans) {
    for (InflatedSpan span : spans) {
      if (span != null) {
        span.release();
      }
    }
  }

  /**
   * Returns the spans after the range's last span to fetch ahead of the reader, none unless this
   * read is the layer's first or continues the previous one and has just entered a new span.
   * Fetching and inflating the next spans then overlaps with the reader's work. A first read counts
   * because a process that opens a file usually reads on through it and its neighbours.
   */
  private int[] spansToReadAhead(ReadRange range) {
    int firstSpan = range.firstSpan();
    int lastSpan = range.lastSpan();
    int previous = lastReadSpan.getAndSet(lastSpan);
    boolean sequential = previous == NO_READ || firstSpan == previous || firstSpan == previous + 1;
    if (readaheadSpans == 0 || !sequential || lastSpan == previous) {
      return new int[0];
    }
    int from = lastSpan + 1;
    int to = Math.min(zinfo.maxSpanId(), lastSpan + readaheadSpans);
    return from <= to ? nonEmptySpans(from, to) : new int[0];
  }

  /**
   * The readahead of one read, started once. A read that fetches its own span starts it once that
   * fetch has reserved its share of the fetch memory budget, before its request goes out. The
   * readahead fetches then wait for the budget in turn and never hold up the span the reader waits
   * for. A read that finds its spans in memory, on disk or in flight starts it before it waits.
   * Failures are left to the read that needs the span. Used by the reading thread only.
   */
  private final class Readahead implements Runnable {
    private int @Nullable [] spanIds;

    Readahead(int[] spanIds) {
      this.spanIds = spanIds.length == 0 ? null : spanIds;
    }

    /** Starts the readahead fetches unless they were started before. */
    @Override
    public void run() {
      int[] ids = spanIds;
      spanIds = null;
      if (ids != null) {
        fetchAhead(ids, FetchPurpose.READAHEAD);
      }
    }
  }

  /**
   * Starts fetching the spans that hold the data of {@code entries}, ahead of the background
   * fetcher, which pauses until they are cached. Entries without data are ignored. Returns at once;
   * the future completes when every span is cached, or with a failure once every span is resolved.
   */
  public CompletableFuture<Void> prefetch(Collection<TocEntry> entries) {
    TreeSet<Integer> spanIds = new TreeSet<>();
    for (TocEntry entry : entries) {
      long start = entry.uncompressedOffset();
      long end = Math.min(archiveSize, start + entry.uncompressedSize());
      if (entry.uncompressedSize() <= 0 || start >= end) {
        continue;
      }
      for (int id : nonEmptySpans(zinfo.spanOf(start), zinfo.spanOf(end - 1))) {
        spanIds.add(id);
      }
    }
    return fetchAhead(
        spanIds.stream().mapToInt(Integer::intValue).toArray(), FetchPurpose.PREFETCH);
  }

  /**
   * Starts fetching spans {@code firstSpan} to {@code lastSpan}, inclusive, as {@link
   * #prefetch(Collection)} does.
   *
   * @throws IndexOutOfBoundsException unless {@code 0 <= firstSpan <= lastSpan < spanCount()}
   */
  public CompletableFuture<Void> prefetchSpans(int firstSpan, int lastSpan) {
    Objects.checkFromToIndex(firstSpan, lastSpan + 1, spanCount());
    return fetchAhead(nonEmptySpans(firstSpan, lastSpan), FetchPurpose.PREFETCH);
  }

  private CompletableFuture<Void> fetchAhead(int[] spanIds, FetchPurpose purpose) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (closed.get()) {
      done.completeExceptionally(new LayerClosedException(layer.toString()));
      return done;
    }
    // Count the prefetch as foreground work from now on, so background fetching pauses at once.
    foreground.begin();
    CompletableFuture<?>[] spans = new CompletableFuture<?>[spanIds.length];
    for (int i = 0; i < spans.length; i++) {
      CompletableFuture<Void> span = new CompletableFuture<>();
      spans[i] = span;
      int spanId = spanIds[i];
      try {
        // One task per span, so that the spans go out in parallel as the budget allows.
        executor.execute(() -> fetchAheadOne(spanId, purpose, span));
      } catch (RejectedExecutionException e) {
        span.completeExceptionally(e);
      }
    }
    CompletableFuture.allOf(spans)
        .whenComplete(
            (ignored, failure) -> {
              foreground.end();
              if (failure == null) {
                done.complete(null);
              } else {
                done.completeExceptionally(
                    failure instanceof CompletionException wrapped && wrapped.getCause() != null
                        ? wrapped.getCause()
                        : failure);
              }
            });
    return done;
  }

  /**
   * Loads one span ahead of its readers and completes {@code result} once it is cached. The span is
   * claimed only once its fetch memory is reserved, so a read that comes meanwhile claims the span
   * itself instead of waiting for a fetch that waits for memory.
   */
  private void fetchAheadOne(int spanId, FetchPurpose purpose, CompletableFuture<Void> result) {
    try {
      // Readahead wants the span inflated in memory, while a prefetch is content with the disk
      // cache.
      boolean cached =
          memory.contains(loader.keyOf(spanId))
              || (purpose != FetchPurpose.READAHEAD
                  && disk != null
                  && disk.contains(layer, spanId));
      if (cached) {
        result.complete(null);
        return;
      }
      Ticket ticket = table.joinInFlight(spanId);
      if (ticket == null) {
        try (FetchMemoryBudget.Reservation reserved = loader.reserveFor(spanId, purpose)) {
          ticket = table.claimOrJoin(new int[] {spanId}).get(0);
          if (ticket.owner()) {
            loader.loadReserved(ticket, purpose);
          }
        }
      }
      ticket
          .future()
          .whenComplete(
              (span, failure) -> {
                if (failure == null) {
                  result.complete(null);
                } else {
                  result.completeExceptionally(failure);
                }
              });
    } catch (IOException | RuntimeException | Error e) {
      result.completeExceptionally(e);
    }
  }

  /** Returns the ids from {@code first} to {@code last} of the spans that hold tar bytes. */
  private int[] nonEmptySpans(int first, int last) {
    int[] ids = new int[last - first + 1];
    int count = 0;
    for (int id = first; id <= last; id++) {
      if (zinfo.span(id).uncompressedLength() > 0) {
        ids[count++] = id;
      }
    }
    return count == ids.length ? ids : Arrays.copyOf(ids, count);
  }

  /**
   * Returns the inflated bytes of each span, in the order of {@code spanIds}, each with a reference
   * for the caller.
   *
   * <p>A span found inflated in a finished fetch can die before this read retains it, when the
   * memory cache evicts it and its last reader lets go; this read then loads it again, from the
   * disk cache if it is there. Each round that loses a span that way leaves the others retained, so
   * the rounds are few.
   */
  private InflatedSpan[] inflatedSpans(int[] spanIds, Readahead readahead) throws IOException {
    InflatedSpan[] result = new InflatedSpan[spanIds.length];
    boolean done = false;
    try {
      for (int round = 1; ; round++) {
        if (acquireMissing(spanIds, result, readahead)) {
          done = true;
          return result;
        }
        if (round == MAX_LOAD_ROUNDS) {
          throw new IOException(
              "layer "
                  + layer
                  + ": a span left the memory cache before this read could copy it, "
                  + MAX_LOAD_ROUNDS
                  + " times in a row; the read can be tried again");
        }
      }
    } finally {
      if (!done) {
        releaseAll(result);
      }
    }
  }

  /**
   * Fills the empty slots of {@code result} with retained spans, from memory or by loading them.
   * Returns false when a span died before it could be retained; its slot stays empty.
   */
  private boolean acquireMissing(
      int[] spanIds, @Nullable InflatedSpan[] result, Readahead readahead) throws IOException {
    List<Integer> missingIndexes = new ArrayList<>();
    for (int i = 0; i < spanIds.length; i++) {
      if (result[i] != null) {
        continue;
      }
      InflatedSpan cached = memory.get(loader.keyOf(spanIds[i]));
      if (cached != null) {
        counters.memoryHit();
        result[i] = cached;
      } else {
        counters.memoryMiss();
        missingIndexes.add(i);
      }
    }
    if (missingIndexes.isEmpty()) {
      return true;
    }

    int[] missing = missingIndexes.stream().mapToInt(i -> spanIds[i]).toArray();
    long waitStartNanos = System.nanoTime();
    boolean complete = true;
    foreground.begin();
    try {
      List<Ticket> tickets = claimAndLoad(missing, readahead);
      readahead.run();
      for (int i = 0; i < tickets.size(); i++) {
        Ticket ticket = tickets.get(i);
        VerifiedSpan span = await(ticket);
        InflatedSpan inflated = inflate(span);
        if (inflated == null) {
          complete = false;
          continue;
        }
        if (!ticket.owner()) {
          // A background fetch may have left the span on disk only; keep it for the next read.
          memory.put(loader.keyOf(ticket.spanId()), inflated);
        }
        result[missingIndexes.get(i)] = inflated;
      }
      counters.readWaited(System.nanoTime() - waitStartNanos);
    } finally {
      foreground.end();
    }
    return complete;
  }

  /**
   * Returns the span's inflated bytes with a reference for the caller, or null when it is known
   * only by an inflated form that died. A span that a background fetch or a prefetch left
   * compressed is inflated within the fetch memory budget.
   */
  private @Nullable InflatedSpan inflate(VerifiedSpan span) throws IOException {
    if (span.isInflated()) {
      return span.acquireInflated(zinfo, memory.buffers());
    }
    try (FetchMemoryBudget.Reservation reserved =
        fetchMemory.acquireForRead(span.span().uncompressedLength())) {
      return span.acquireInflated(zinfo, memory.buffers());
    }
  }

  /**
   * Claims or joins the fetch of every span a read needs, and loads the claimed ones.
   *
   * @param onReserved run once the first request has reserved its fetch memory, before it is sent
   */
  private List<Ticket> claimAndLoad(int[] spanIds, Runnable onReserved) {
    List<Ticket> tickets = table.claimOrJoin(spanIds);
    List<Ticket> owned = new ArrayList<>(tickets.size());
    for (Ticket ticket : tickets) {
      if (ticket.owner()) {
        owned.add(ticket);
      }
    }
    if (!owned.isEmpty()) {
      loader.load(owned, FetchPurpose.READ, onReserved);
    }
    return tickets;
  }

  private VerifiedSpan await(Ticket ticket) throws IOException {
    try {
      return ticket.future().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      InterruptedIOException interrupted =
          new InterruptedIOException(
              "interrupted while waiting for span " + ticket.spanId() + " of layer " + layer);
      interrupted.initCause(e);
      throw interrupted;
    } catch (ExecutionException e) {
      // The fetch's failure is shared by every reader that waited for it.
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw new IOException("layer " + layer + ": span " + ticket.spanId() + " failed", cause);
    }
  }

  /**
   * Claims the next span for the background fetcher: the lowest span after its cursor that was
   * never requested or whose last fetch failed, that contains tar bytes and is in neither cache.
   * Returns null when none is left or the layer is released.
   */
  @Nullable Ticket claimBackgroundSpan() {
    for (int checked = 0; checked < spanCount() && !closed.get(); checked++) {
      int id = table.nextBackgroundCandidate();
      if (id < 0) {
        return null;
      }
      if ((disk != null && disk.contains(layer, id)) || memory.contains(loader.keyOf(id))) {
        continue;
      }
      Ticket ticket = table.claimForBackground(id);
      if (ticket != null) {
        return ticket;
      }
    }
    return null;
  }

  /** Returns whether the last fetch of some span of the layer failed. */
  boolean hasFailedSpans() {
    for (int id = 0; id < spanCount(); id++) {
      if (table.state(id) == SpanState.FAILED) {
        return true;
      }
    }
    return false;
  }

  /** Starts the background fetcher's walk over the layer's spans again from the first one. */
  void rewindBackground() {
    table.rewindBackground();
  }

  /** Returns the compressed length of a span, what fetching it costs the background rate. */
  long compressedLength(int spanId) {
    return zinfo.span(spanId).compressedLength();
  }

  /**
   * Fetches a span claimed by {@link #claimBackgroundSpan} on the calling thread.
   *
   * @return null on success, else the failure, which the span's waiters also receive
   */
  @Nullable Throwable fetchInBackground(Ticket ticket) {
    loader.load(List.of(ticket), FetchPurpose.BACKGROUND);
    CompletableFuture<VerifiedSpan> future = ticket.future();
    if (!future.isCompletedExceptionally()) {
      return null;
    }
    try {
      future.join();
      return null;
    } catch (RuntimeException e) {
      return e.getCause() != null ? e.getCause() : e;
    }
  }

  /** Fails a background claim that could not be started, so that readers fetch the span. */
  void abandonBackground(Ticket ticket, Throwable failure) {
    table.fail(ticket, failure);
  }

  /** Returns whether the layer was released, by {@link #close} or by closing its engine. */
  public boolean isClosed() {
    return closed.get();
  }

  private void checkOpen() throws LayerClosedException {
    if (closed.get()) {
      throw new LayerClosedException(layer.toString());
    }
  }

  /**
   * Releases the layer: the background fetcher drops it and later reads fail with {@link
   * LayerClosedException}. Reads in progress complete, and cached spans stay cached. Idempotent.
   */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      onClose.accept(this);
    }
  }

  @Override
  public String toString() {
    return "SpanManager{" + layer + "}";
  }
}
