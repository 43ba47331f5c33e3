package dev.jsoci.fetcher.span;

import dev.jsoci.fetcher.span.SpanTable.Ticket;
import dev.jsoci.oci.Digest;
import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.SpanDigestMismatchException;
import dev.jsoci.ztoc.Zinfo;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves the span fetches a caller owns: from the disk cache when it contains a span, else from
 * the layer's {@link BlobRangeSource} with one ranged request per run of adjacent spans. Checks
 * each span's digest, refetching a mismatching span alone, then caches the span and publishes it in
 * the {@link SpanTable}.
 *
 * <p>Caching in memory or on disk happens before publishing, so a span is {@code READY} only once
 * its bytes are in a cache. Thread-safe; holds no lock while it does I/O.
 */
final class SpanLoader {
  private static final Logger logger = LoggerFactory.getLogger(SpanLoader.class);

  private final Digest layer;
  private final Zinfo zinfo;
  private final List<Digest> spanDigests;
  private final BlobRangeSource source;
  private final MemorySpanCache memory;
  private final @Nullable DiskSpanCache disk;
  private final SpanOptions options;
  private final Executor executor;
  private final FetchMemoryBudget fetchMemory;
  private final FetchCounters counters;
  private final SpanTable table;
  private final AtomicBoolean diskWriteFailureLogged = new AtomicBoolean();

  SpanLoader(
      Digest layer,
      Zinfo zinfo,
      List<Digest> spanDigests,
      BlobRangeSource source,
      MemorySpanCache memory,
      @Nullable DiskSpanCache disk,
      SpanOptions options,
      Executor executor,
      FetchMemoryBudget fetchMemory,
      FetchCounters counters,
      SpanTable table) {
    this.layer = layer;
    this.zinfo = zinfo;
    this.spanDigests = List.copyOf(spanDigests);
    this.source = source;
    this.memory = memory;
    this.disk = disk;
    this.options = options;
    this.executor = executor;
    this.fetchMemory = fetchMemory;
    this.counters = counters;
    this.table = table;
  }

  SpanKey keyOf(int spanId) {
    return new SpanKey(layer, zinfo.span(spanId));
  }

  /**
   * Resolves every ticket in {@code owned}, all owned by the caller and sorted by span id. The
   * first run of spans is fetched on the calling thread and later runs on the executor, so this
   * returns once the first run is resolved. Wait on the tickets for the rest. Failures go to the
   * tickets rather than to the caller, except errors that are not {@link IOException}s, which are
   * rethrown after their tickets fail.
   */
  void load(List<Ticket> owned, FetchPurpose purpose) {
    load(owned, purpose, () -> {});
  }

  /**
   * Resolves the tickets as {@link #load(List, FetchPurpose)} does, and runs {@code onReserved}
   * once the first run's request has reserved its fetch memory, before the request is sent. It does
   * not run when no request is needed.
   */
  void load(List<Ticket> owned, FetchPurpose purpose, Runnable onReserved) {
    load(owned, purpose, onReserved, false);
  }

  /**
   * Reserves the fetch memory that loading span {@code spanId} for {@code purpose} takes, waiting
   * while it is spent, for {@link #loadReserved}.
   *
   * @throws java.io.InterruptedIOException if the thread is interrupted while it waits
   */
  FetchMemoryBudget.Reservation reserveFor(int spanId, FetchPurpose purpose) throws IOException {
    return reserve(workBytes(zinfo.span(spanId), purpose), purpose);
  }

  /**
   * Resolves one owned ticket on the calling thread, as {@link #load(List, FetchPurpose)} does,
   * within a reservation of {@link #reserveFor} that the caller keeps until this returns.
   */
  void loadReserved(Ticket owned, FetchPurpose purpose) {
    load(List.of(owned), purpose, () -> {}, true);
  }

  private void load(
      List<Ticket> owned, FetchPurpose purpose, Runnable onReserved, boolean memoryReserved) {
    List<Ticket> dispatched = new ArrayList<>();
    try {
      loadOrThrow(owned, purpose, dispatched, onReserved, memoryReserved);
    } catch (RuntimeException | Error e) {
      // Tickets handed to the executor are resolved by the thread that runs them.
      List<Ticket> local = new ArrayList<>(owned);
      local.removeAll(dispatched);
      failUnresolved(local, e);
      throw e;
    }
  }

  /**
   * @param memoryReserved whether the caller has reserved the fetch memory of {@code owned}, which
   *     then has one ticket
   */
  private void loadOrThrow(
      List<Ticket> owned,
      FetchPurpose purpose,
      List<Ticket> dispatched,
      Runnable onReserved,
      boolean memoryReserved) {
    // 1. A span that another fetch made READY after the caller missed the memory cache is there
    // now. Spans in the disk cache, checked against their digests, need no request either.
    List<Ticket> missing = new ArrayList<>(owned.size());
    for (Ticket ticket : owned) {
      SpanKey key = keyOf(ticket.spanId());
      InflatedSpan inflated = memory.get(key);
      if (inflated != null) {
        counters.memoryHit();
        table.complete(ticket, VerifiedSpan.ofInflated(key.span(), inflated));
        inflated.release();
        continue;
      }
      if (disk == null) {
        missing.add(ticket);
        continue;
      }
      if (!disk.contains(layer, ticket.spanId())) {
        counters.diskMiss();
        missing.add(ticket);
        continue;
      }
      if (!loadFromDisk(ticket, key, purpose, memoryReserved)) {
        missing.add(ticket);
      }
    }

    // 2. The rest go out as runs of adjacent spans, one request each. Prefetched spans go out one
    // per request, in parallel, so that the reader that comes next waits for its own span only.
    List<List<Ticket>> runs =
        purpose == FetchPurpose.READAHEAD || purpose == FetchPurpose.PREFETCH
            ? singleSpanRuns(missing)
            : runsOf(missing);
    for (int i = 1; i < runs.size(); i++) {
      List<Ticket> run = runs.get(i);
      try {
        executor.execute(() -> fetchRun(run, purpose, () -> {}, false));
        dispatched.addAll(run);
      } catch (RejectedExecutionException e) {
        failUnresolved(
            run,
            new IOException("layer " + layer + ": span fetch rejected, the engine is closed", e));
      }
    }
    if (!runs.isEmpty()) {
      fetchRun(runs.get(0), purpose, onReserved, memoryReserved);
    }
  }

  /**
   * Resolves the ticket from the disk cache within the fetch memory budget, reserving its share
   * unless the caller has reserved it. Returns false when the span's file is gone or invalid, which
   * leaves the ticket unresolved.
   */
  private boolean loadFromDisk(
      Ticket ticket, SpanKey key, FetchPurpose purpose, boolean memoryReserved) {
    try (FetchMemoryBudget.Reservation reserved =
        memoryReserved
            ? FetchMemoryBudget.Reservation.NONE
            : reserve(workBytes(key.span(), purpose), purpose)) {
      byte[] cached = Objects.requireNonNull(disk).load(key, expectedDigest(ticket));
      if (cached == null) {
        counters.diskMiss();
        return false;
      }
      counters.diskHit();
      publish(ticket, cached, purpose, true);
    } catch (IOException e) {
      table.fail(ticket, e);
    }
    return true;
  }

  /**
   * Returns the heap that fetching and verifying {@code span} for {@code purpose} uses at its peak:
   * the compressed bytes, one copy of them (a run's slice or a disk file's header and payload), and
   * the inflated bytes when {@link #publish} inflates the span.
   */
  private long workBytes(Span span, FetchPurpose purpose) {
    long compressed = 2 * span.compressedLength();
    return inflatesOnLoad(purpose)
        ? compressed + Math.max(0, span.uncompressedLength())
        : compressed;
  }

  /**
   * Returns whether spans loaded for {@code purpose} are inflated into the memory cache at once:
   * those a reader needs now or soon, and every span when there is no disk cache to keep them.
   */
  private boolean inflatesOnLoad(FetchPurpose purpose) {
    boolean readSoon = purpose == FetchPurpose.READ || purpose == FetchPurpose.READAHEAD;
    return memory.isEnabled() && (readSoon || disk == null);
  }

  private FetchMemoryBudget.Reservation reserve(long bytes, FetchPurpose purpose)
      throws IOException {
    return purpose == FetchPurpose.READ
        ? fetchMemory.acquireForRead(bytes)
        : fetchMemory.acquire(bytes);
  }

  private @Nullable String expectedDigest(Ticket ticket) {
    return options.verifySpans() ? spanDigests.get(ticket.spanId()).toString() : null;
  }

  private static List<List<Ticket>> singleSpanRuns(List<Ticket> tickets) {
    List<List<Ticket>> runs = new ArrayList<>(tickets.size());
    for (Ticket ticket : tickets) {
      runs.add(List.of(ticket));
    }
    return runs;
  }

  /** Splits sorted tickets into runs of consecutive span ids within the request size limit. */
  private List<List<Ticket>> runsOf(List<Ticket> tickets) {
    List<List<Ticket>> runs = new ArrayList<>();
    List<Ticket> run = new ArrayList<>();
    long runStart = 0;
    for (Ticket ticket : tickets) {
      Span span = zinfo.span(ticket.spanId());
      if (!run.isEmpty()) {
        int previous = run.get(run.size() - 1).spanId();
        boolean fits = span.compressedEnd() - runStart <= options.maxRequestBytes();
        if (ticket.spanId() != previous + 1 || !fits) {
          runs.add(run);
          run = new ArrayList<>();
        }
      }
      if (run.isEmpty()) {
        runStart = span.compressedStart();
      }
      run.add(ticket);
    }
    if (!run.isEmpty()) {
      runs.add(run);
    }
    return runs;
  }

  /**
   * Fetches one run of adjacent spans with one request, then resolves each span's ticket.
   *
   * <p>NOTE: when the thread that runs the request is interrupted, every reader waiting for these
   * spans gets the resulting {@link java.io.InterruptedIOException}; the next read fetches them
   * again.
   */
  private void fetchRun(
      List<Ticket> run, FetchPurpose purpose, Runnable onReserved, boolean memoryReserved) {
    Span first = zinfo.span(run.get(0).spanId());
    Span last = zinfo.span(run.get(run.size() - 1).spanId());
    long start = first.compressedStart();
    long runBytes = 0;
    for (Ticket ticket : run) {
      runBytes += workBytes(zinfo.span(ticket.spanId()), purpose);
    }
    try (FetchMemoryBudget.Reservation reserved =
        memoryReserved ? FetchMemoryBudget.Reservation.NONE : reserve(runBytes, purpose)) {
      onReserved.run();
      byte[] bytes = read(start, last.compressedEnd() - start, purpose);
      for (Ticket ticket : run) {
        Span span = zinfo.span(ticket.spanId());
        // Gzip spans may share a byte with their neighbour, so each takes its own range.
        byte[] compressed =
            run.size() == 1
                ? bytes
                : Arrays.copyOfRange(
                    bytes,
                    (int) (span.compressedStart() - start),
                    (int) (span.compressedEnd() - start));
        try {
          publish(ticket, verified(span, compressed, purpose), purpose, false);
        } catch (IOException e) {
          table.fail(ticket, e);
        }
      }
    } catch (IOException e) {
      failUnresolved(run, e);
    } catch (RuntimeException | Error e) {
      failUnresolved(run, e);
      throw e;
    }
  }

  /** Reads exactly {@code length} bytes at {@code start} from the source, counting the request. */
  private byte[] read(long start, long length, FetchPurpose purpose) throws IOException {
    long startNanos = System.nanoTime();
    byte[] bytes;
    try {
      bytes = source.read(start, (int) length);
    } catch (IOException e) {
      counters.requestFailed(purpose);
      throw e;
    }
    counters.requestCompleted(purpose, bytes.length, System.nanoTime() - startNanos);
    if (bytes.length != length) {
      throw new IOException(
          "layer "
              + layer
              + ": read of ["
              + start
              + ", "
              + (start + length)
              + ") returned "
              + bytes.length
              + " bytes, expected "
              + length);
    }
    return bytes;
  }

  /**
   * Returns the span's bytes once they match its digest, fetching the span again after each
   * mismatch up to the configured number of retries.
   *
   * @throws SpanDigestMismatchException naming the layer and the span when the retries run out
   */
  private byte[] verified(Span span, byte[] compressed, FetchPurpose purpose) throws IOException {
    if (!options.verifySpans()) {
      return compressed;
    }
    Digest expected = spanDigests.get(span.id());
    byte[] candidate = compressed;
    for (int retry = 0; ; retry++) {
      Digest actual = expected.hasher().update(candidate).digest();
      if (actual.equals(expected)) {
        return candidate;
      }
      counters.digestMismatch();
      if (retry >= options.verificationRetries()) {
        throw new SpanDigestMismatchException(
            layer.toString(), span.id(), expected.toString(), actual.toString());
      }
      logger.debug(
          "span digest mismatch, fetching the span again layer={} span={} actual={}",
          layer,
          span.id(),
          actual);
      candidate = read(span.compressedStart(), span.compressedLength(), purpose);
    }
  }

  /**
   * Caches a verified span as {@code purpose} requires, then publishes it as {@code READY}. A span
   * fetched from the source goes to the disk cache. Reads and readahead put the inflated span in
   * memory, so a reader that comes next finds it inflated, and so do prefetches and the background
   * fetcher when there is no disk cache.
   *
   * <p>A span inflated into memory is published before its disk write, so that the waiting reader
   * does not wait for the write too. Other spans are published once they are on disk.
   */
  private void publish(Ticket ticket, byte[] compressed, FetchPurpose purpose, boolean fromDisk)
      throws IOException {
    SpanKey key = keyOf(ticket.spanId());
    VerifiedSpan span = VerifiedSpan.ofCompressed(key.span(), compressed);
    if (!fromDisk) {
      counters.spanFetched(purpose);
    }
    boolean inflates = inflatesOnLoad(purpose);
    if (!fromDisk && !inflates) {
      storeOnDisk(key, compressed);
    }
    if (inflates) {
      // Never null: the span has its compressed bytes.
      InflatedSpan inflated = Objects.requireNonNull(span.acquireInflated(zinfo, memory.buffers()));
      memory.put(key, inflated);
      inflated.release();
    }
    table.complete(ticket, span);
    if (!fromDisk && inflates) {
      storeOnDisk(key, compressed);
    }
  }

  private void storeOnDisk(SpanKey key, byte[] compressed) {
    if (disk == null) {
      return;
    }
    try {
      disk.store(key, compressed);
    } catch (IOException e) {
      if (diskWriteFailureLogged.compareAndSet(false, true)) {
        logger.warn(
            "cannot write the span cache, spans of this layer stay in memory only layer={} span={}",
            layer,
            key.spanId(),
            e);
      } else {
        logger.debug("cannot write the span cache layer={} span={}", layer, key.spanId(), e);
      }
    }
  }

  private void failUnresolved(List<Ticket> run, Throwable failure) {
    for (Ticket ticket : run) {
      if (!ticket.future().isDone()) {
        table.fail(ticket, failure);
      }
    }
  }
}
