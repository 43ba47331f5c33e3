package dev.jsoci.snapshotter.lazy;

import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.span.SpanManager;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.PrefetchArtifact;
import dev.jsoci.snapshotter.DaemonThreads;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches the spans that a layer's SOCI prefetch artifact lists when the layer is mounted, so that
 * a container's first reads find them cached or in flight.
 *
 * <p>The mount does not wait: the artifact is read in the background, and once no zTOC read is
 * queued or running, its spans are fetched in span order, a few at a time. They go ahead of the
 * background fetcher, which pauses until they are cached. A failure is logged and leaves the spans
 * to the reads that need them. Safe for concurrent use.
 */
final class ArtifactPrefetcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ArtifactPrefetcher.class);

  /** Layers that may wait for their turn when the number prefetching at once is limited. */
  private static final int QUEUE_CAPACITY = 1024;

  private static final Duration IDLE_THREAD_KEEP_ALIVE = Duration.ofSeconds(30);

  /**
   * How long a prefetch waits for the queued and running zTOC reads before it fetches its spans.
   * containerd prepares an image's next layer only once that layer's zTOC is read, so spans fetched
   * during a zTOC read would lengthen the pull. Spans fetched after it are usually still ahead of
   * the container's first reads.
   */
  private static final Duration MAX_ZTOC_WAIT = Duration.ofSeconds(2);

  /** Spans of one layer fetched at the same time. */
  private static final int SPANS_IN_FLIGHT = 2;

  private final RegistryClient client;
  private final ZtocReads ztocReads;
  private final ThreadPoolExecutor executor;

  /**
   * @param maxLayers the number of layers that prefetch at once; 0 or negative for no limit
   * @param ztocReads the zTOC reads that spans wait for
   */
  ArtifactPrefetcher(RegistryClient client, int maxLayers, ZtocReads ztocReads) {
    this.client = client;
    this.ztocReads = ztocReads;
    boolean limited = maxLayers > 0;
    BlockingQueue<Runnable> queue =
        limited ? new LinkedBlockingQueue<>(QUEUE_CAPACITY) : new SynchronousQueue<>();
    this.executor =
        new ThreadPoolExecutor(
            limited ? maxLayers : 0,
            limited ? maxLayers : Integer.MAX_VALUE,
            IDLE_THREAD_KEEP_ALIVE.toSeconds(),
            TimeUnit.SECONDS,
            queue,
            DaemonThreads.numbered("jsoci-prefetch-"));
    this.executor.allowCoreThreadTimeOut(limited);
  }

  /**
   * Starts reading the prefetch artifact {@code artifact} of a layer from {@code repository} and
   * fetching the spans it lists into {@code spans}. Returns at once; the returned future completes
   * when every listed span is cached, or with the failure that ended the prefetch.
   */
  CompletableFuture<Void> start(ImageRef repository, Descriptor artifact, SpanManager spans) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    try {
      executor.execute(() -> run(repository, artifact, spans, done));
    } catch (RejectedExecutionException e) {
      LOG.atWarn()
          .addKeyValue("layer", spans.layer().toString())
          .addKeyValue("artifact", artifact.digest().toString())
          .log("too many layers wait to prefetch; this one's reads fetch the spans they need");
      done.completeExceptionally(e);
    }
    return done;
  }

  private void run(
      ImageRef repository, Descriptor artifact, SpanManager spans, CompletableFuture<Void> done) {
    long startNanos = System.nanoTime();
    try {
      PrefetchArtifact.checkSize(artifact.size(), artifact.digest().toString());
      PrefetchArtifact parsed = PrefetchArtifact.parse(client.readBlob(repository, artifact));
      ztocReads.awaitNone(MAX_ZTOC_WAIT);
      Deque<CompletableFuture<Void>> fetches = new ArrayDeque<>();
      int maxSpanId = spans.spanCount() - 1;
      long listed = 0;
      for (PrefetchArtifact.SpanRange range : parsed.spans()) {
        if (range.startSpan() > maxSpanId) {
          continue;
        }
        int last = Math.min(range.endSpan(), maxSpanId);
        listed += last - range.startSpan() + 1;
        for (int id = range.startSpan(); id <= last; id++) {
          // In order and a few at a time, so that the first spans a container reads arrive first
          // instead of sharing the link with all the others.
          if (fetches.size() == SPANS_IN_FLIGHT) {
            fetches.peekFirst().get();
            fetches.removeFirst();
          }
          fetches.addLast(spans.prefetchSpans(id, id));
        }
      }
      if (listed < parsed.spanCount()) {
        LOG.atWarn()
            .addKeyValue("layer", spans.layer().toString())
            .addKeyValue("artifact", artifact.digest().toString())
            .addKeyValue("spans", spans.spanCount())
            .log("the prefetch artifact lists spans the layer does not have; they are skipped");
      }
      // Waiting keeps this layer's turn until its spans are cached, so a limit on the layers that
      // prefetch at once also limits the spans in flight.
      CompletableFuture.allOf(fetches.toArray(CompletableFuture<?>[]::new)).get();
      LOG.atDebug()
          .addKeyValue("layer", spans.layer().toString())
          .addKeyValue("spans", listed)
          .addKeyValue("millis", (System.nanoTime() - startNanos) / 1_000_000)
          .log("prefetched the spans of the layer's prefetch artifact");
      done.complete(null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      done.completeExceptionally(e);
    } catch (ExecutionException e) {
      failed(artifact, spans, e.getCause());
      done.completeExceptionally(e.getCause());
    } catch (IOException | RuntimeException e) {
      failed(artifact, spans, e);
      done.completeExceptionally(e);
    }
  }

  private static void failed(Descriptor artifact, SpanManager spans, Throwable failure) {
    if (spans.isClosed()) {
      // The layer was unmounted while its spans were fetched.
      return;
    }
    LOG.atWarn()
        .addKeyValue("layer", spans.layer().toString())
        .addKeyValue("artifact", artifact.digest().toString())
        .addKeyValue("error", String.valueOf(failure.getMessage()))
        .log("prefetch failed; reads fetch the spans they need");
  }

  /** Stops the prefetches: queued ones never start, and running ones stop waiting. */
  @Override
  public void close() {
    executor.shutdownNow();
  }
}
