package dev.jsoci.snapshotter.lazy;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.snapshotter.DaemonThreads;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches the zTOCs of an image's layers in the background once the first of its layers is looked
 * up, with or without a zTOC of its own, so that the lookups of the next layers find them ready or
 * join their fetch in flight.
 *
 * <p>Fetched zTOCs are kept by digest, bounded by their encoded size and expiring after {@link
 * #EXPIRY}. A read that fails is dropped from the cache, so a later lookup of that layer reads it
 * again and gets its own error. Prefetch failures are logged only at debug level: the error reaches
 * the log when its layer is prepared. Safe for concurrent use.
 */
final class ZtocPrefetcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ZtocPrefetcher.class);

  /**
   * The number of zTOCs downloaded at the same time in the background. containerd prepares the
   * layers in order, so fewer downloads at once make the next layer's zTOC arrive sooner. On the 2
   * GiB cold-start benchmark (2 cores), 4 at once left some layers waiting 0.5-1.0 s, and 2 at most
   * 0.35 s.
   */
  static final int THREADS = 2;

  /** The number of background reads that may wait for a thread. Further ones are skipped. */
  private static final int QUEUE_CAPACITY = 512;

  /**
   * The maximum total encoded size of the cached zTOCs. The zTOCs of a 2 GiB image with 4 MiB spans
   * come to about 20 MB encoded. A mounted layer keeps the same decoded zTOC, so the cache adds
   * heap only for the layers not mounted yet.
   */
  // NOTE: the bound counts encoded bytes, and a decoded zTOC takes more heap than that (the factor
  // was not measured). bin/jsoci-snapshotter caps the daemon heap at 128 MiB.
  private static final long MAX_CACHED_BYTES = 32L << 20;

  /**
   * How long a read zTOC stays cached. containerd prepares the layers of an image one after
   * another, so the last one is expected to be looked up well within this time.
   */
  static final Duration EXPIRY = Duration.ofMinutes(5);

  /** The number of SOCI indexes remembered as prefetched, so each is prefetched once. */
  private static final int REMEMBERED_INDEXES = 256;

  /** Reads one zTOC's bytes, and decodes and checks them. */
  interface ZtocReader {
    byte[] read(ImageRef image, Descriptor descriptor) throws IOException;

    CheckedZtoc decode(byte[] bytes, Descriptor descriptor) throws IOException;
  }

  /**
   * A cache key. The size is part of it because the reader rejects a descriptor that gives too
   * large a size before it reads anything, even when the digest was read before.
   */
  private record Key(Digest digest, long size) {
    static Key of(Descriptor descriptor) {
      return new Key(descriptor.digest(), descriptor.size());
    }
  }

  /**
   * The outcome of one read: a zTOC, or the error of a read that failed. Failed reads complete
   * their future normally, so the cache does not log them, and are removed from the cache at once.
   *
   * @param background whether the read was a prefetch, whose error a lookup does not take over
   */
  private record Outcome(
      @Nullable CheckedZtoc ztoc, @Nullable Exception error, long size, boolean background) {
    static Outcome failed(Exception error, boolean background) {
      return new Outcome(null, error, 0, background);
    }
  }

  private final ZtocReader reader;
  private final ZtocReads reads;
  private final ThreadPoolExecutor executor;

  /**
   * Decodes the background downloads one at a time, in the order they arrive, so that the download
   * threads go on to the next zTOCs while the CPU work of this one runs.
   */
  private final ThreadPoolExecutor decoder;

  private final AsyncCache<Key, Outcome> ztocs =
      Caffeine.newBuilder()
          .maximumWeight(MAX_CACHED_BYTES)
          .weigher((Key key, Outcome outcome) -> (int) Math.min(Integer.MAX_VALUE, outcome.size()))
          .expireAfterWrite(EXPIRY)
          .buildAsync();
  private final Cache<Digest, Boolean> prefetchedIndexes =
      Caffeine.newBuilder().maximumSize(REMEMBERED_INDEXES).expireAfterWrite(EXPIRY).build();

  /**
   * @param reads counts each read from the moment it is queued or started until it ends
   */
  ZtocPrefetcher(ZtocReader reader, ZtocReads reads) {
    this.reader = reader;
    this.reads = reads;
    this.executor =
        new ThreadPoolExecutor(
            THREADS,
            THREADS,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(QUEUE_CAPACITY),
            DaemonThreads.numbered("jsoci-ztoc-prefetch-"));
    this.executor.allowCoreThreadTimeOut(true);
    this.decoder =
        new ThreadPoolExecutor(
            1,
            1,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            DaemonThreads.numbered("jsoci-ztoc-decode-"));
    this.decoder.allowCoreThreadTimeOut(true);
  }

  /**
   * Returns the checked zTOC {@code requested}: from the cache, by joining its read in flight, or
   * by reading it on the calling thread. The first call for the index {@code indexDigest} then
   * starts reading {@code all} in the background, in their order, a few at a time.
   *
   * <p>A lookup that joins another lookup's failed read gets that read's error. A lookup that finds
   * a failed prefetch reads the zTOC again itself, so that a passing fault does not stick.
   *
   * @param all the zTOC descriptors of the image's layers, in the order containerd prepares them
   * @throws IOException the error of the read this call made or joined, with its own type
   */
  CheckedZtoc get(ImageRef image, Digest indexDigest, Descriptor requested, List<Descriptor> all)
      throws IOException {
    Key key = Key.of(requested);
    CompletableFuture<Outcome> claim = new CompletableFuture<>();
    CompletableFuture<Outcome> existing = ztocs.asMap().putIfAbsent(key, claim);
    boolean firstOfIndex = prefetchedIndexes.asMap().putIfAbsent(indexDigest, Boolean.TRUE) == null;

    // The prefetch starts once the requested zTOC is read, so that the background reads and
    // decoding do not compete with it for the network and the CPU.
    Outcome outcome;
    if (existing == null) {
      outcome = readInto(claim, key, image, requested, false);
    } else {
      outcome = await(existing, requested.digest());
      if (outcome.ztoc() == null && outcome.background()) {
        outcome = readInto(new CompletableFuture<>(), key, image, requested, false);
      }
    }
    if (firstOfIndex) {
      prefetch(image, indexDigest, all);
    }
    return unwrap(outcome);
  }

  /**
   * Starts reading {@code all} in the background, in their order, unless the index {@code
   * indexDigest} was prefetched before. For a layer that has no zTOC itself: containerd prepares
   * the next layers while this one is downloaded, so their zTOCs are ready when they are looked up.
   */
  void prefetchIndex(ImageRef image, Digest indexDigest, List<Descriptor> all) {
    if (prefetchedIndexes.asMap().putIfAbsent(indexDigest, Boolean.TRUE) == null) {
      prefetch(image, indexDigest, all);
    }
  }

  /**
   * Reads the zTOC and completes {@code future} with the outcome. A failed outcome leaves the
   * cache, so the next lookup of the layer reads it again.
   */
  private Outcome readInto(
      CompletableFuture<Outcome> future,
      Key key,
      ImageRef image,
      Descriptor descriptor,
      boolean background) {
    byte[] bytes;
    try (ZtocReads.Read read = reads.begin()) {
      bytes = reader.read(image, descriptor);
    } catch (IOException | RuntimeException e) {
      return complete(future, key, Outcome.failed(e, background));
    }
    return complete(future, key, decode(bytes, descriptor, background));
  }

  private Outcome decode(byte[] bytes, Descriptor descriptor, boolean background) {
    try {
      return new Outcome(reader.decode(bytes, descriptor), null, descriptor.size(), background);
    } catch (IOException | RuntimeException e) {
      return Outcome.failed(e, background);
    }
  }

  /** Completes {@code future} with {@code outcome}, and drops a failed outcome from the cache. */
  private Outcome complete(CompletableFuture<Outcome> future, Key key, Outcome outcome) {
    future.complete(outcome);
    if (outcome.error() != null) {
      ztocs.asMap().remove(key, future);
    }
    return outcome;
  }

  private void prefetch(ImageRef image, Digest indexDigest, List<Descriptor> all) {
    int queued = 0;
    for (Descriptor descriptor : all) {
      Key key = Key.of(descriptor);
      CompletableFuture<Outcome> future = new CompletableFuture<>();
      if (ztocs.asMap().putIfAbsent(key, future) != null) {
        continue;
      }
      ZtocReads.Read waiting = reads.begin();
      try {
        executor.execute(() -> prefetchOne(future, key, image, descriptor, waiting));
        queued++;
      } catch (RejectedExecutionException e) {
        // The queue is full or the prefetcher is closed: the layer's lookup reads the zTOC.
        waiting.close();
        ztocs.asMap().remove(key, future);
        future.complete(Outcome.failed(e, true));
      }
    }
    LOG.atDebug()
        .addKeyValue("index", indexDigest.toString())
        .addKeyValue("image", image.toString())
        .addKeyValue("ztocs", queued)
        .log("prefetching zTOCs");
  }

  /**
   * Downloads one zTOC on the calling thread and hands its bytes to the decoder. {@code waiting}
   * counts the download, from the moment it was queued until its bytes are in.
   */
  private void prefetchOne(
      CompletableFuture<Outcome> future,
      Key key,
      ImageRef image,
      Descriptor descriptor,
      ZtocReads.Read waiting) {
    byte[] bytes;
    try (waiting) {
      if (future.isDone()) {
        return;
      }
      bytes = reader.read(image, descriptor);
    } catch (IOException | RuntimeException e) {
      logFailure(descriptor, image, complete(future, key, Outcome.failed(e, true)));
      return;
    }
    try {
      decoder.execute(
          () ->
              logFailure(
                  descriptor, image, complete(future, key, decode(bytes, descriptor, true))));
    } catch (RejectedExecutionException e) {
      // The prefetcher is closed, and close() has completed the future already.
      complete(future, key, Outcome.failed(e, true));
    }
  }

  private static void logFailure(Descriptor descriptor, ImageRef image, Outcome outcome) {
    if (outcome.error() != null) {
      LOG.atDebug()
          .addKeyValue("ztoc", descriptor.digest().toString())
          .addKeyValue("image", image.toString())
          .addKeyValue("error", outcome.error().getMessage())
          .log("prefetching zTOC failed; its layer's lookup reads it again");
    }
  }

  private static Outcome await(CompletableFuture<Outcome> future, Digest digest)
      throws IOException {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for zTOC " + digest);
    } catch (ExecutionException e) {
      // Futures are only completed normally, so this is a bug.
      throw new IllegalStateException("reading zTOC " + digest + " failed", e.getCause());
    }
  }

  /** Returns the zTOC of {@code outcome}, or throws its error with its own type. */
  private static CheckedZtoc unwrap(Outcome outcome) throws IOException {
    if (outcome.ztoc() != null) {
      return outcome.ztoc();
    }
    Exception error = outcome.error();
    if (error instanceof IOException io) {
      throw io;
    }
    if (error instanceof RuntimeException runtime) {
      throw runtime;
    }
    throw new IllegalStateException("an outcome has neither a zTOC nor an error");
  }

  /**
   * Stops the background reads: queued ones never start, and running ones are interrupted. Lookups
   * that wait for another thread's read fail at once with an {@link IOException}.
   */
  @Override
  public void close() {
    executor.shutdownNow();
    decoder.shutdownNow();
    Outcome closed = Outcome.failed(new IOException("the zTOC prefetcher was closed"), false);
    for (CompletableFuture<Outcome> future : ztocs.asMap().values()) {
      future.complete(closed);
    }
    ztocs.synchronous().invalidateAll();
  }

  /** Waits until the background threads have ended after {@link #close}; for tests. */
  boolean awaitTermination(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    return executor.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS)
        && decoder.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
  }
}
