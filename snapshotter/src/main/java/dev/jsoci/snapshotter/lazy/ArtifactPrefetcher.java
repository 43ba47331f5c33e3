package dev.jsoci.snapshotter.lazy;

import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.span.SpanManager;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.PrefetchArtifact;
import dev.jsoci.snapshotter.DaemonThreads;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
 * Fetches the spans that a layer's SOCI prefetch artifact lists, from the moment the layer is
 * mounted, so that a container's first reads find them cached or in flight.
 *
 * <p>The mount does not wait: the artifact is read and its spans are fetched in the background,
 * ahead of the background fetcher, which pauses until they are cached. A failure is logged and
 * leaves the spans to the reads that need them. Safe for concurrent use.
 */
final class ArtifactPrefetcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ArtifactPrefetcher.class);

  /** Layers that may wait for their turn when the number prefetching at once is limited. */
  private static final int QUEUE_CAPACITY = 1024;

  private static final Duration IDLE_THREAD_KEEP_ALIVE = Duration.ofSeconds(30);

  private final RegistryClient client;
  private final ThreadPoolExecutor executor;

  /**
   * @param maxLayers the number of layers that prefetch at once; 0 or negative for no limit
   */
  ArtifactPrefetcher(RegistryClient client, int maxLayers) {
    this.client = client;
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
      List<CompletableFuture<Void>> fetches = new ArrayList<>();
      int maxSpanId = spans.spanCount() - 1;
      long listed = 0;
      for (PrefetchArtifact.SpanRange range : parsed.spans()) {
        if (range.startSpan() > maxSpanId) {
          continue;
        }
        int last = Math.min(range.endSpan(), maxSpanId);
        listed += last - range.startSpan() + 1;
        fetches.add(spans.prefetchSpans(range.startSpan(), last));
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
