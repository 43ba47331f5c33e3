package dev.jsoci.fetcher.span;

import com.github.benmanes.caffeine.cache.Scheduler;
import com.github.benmanes.caffeine.cache.Ticker;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.jsoci.fetcher.span.SpanTable.Ticket;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fetches the remaining spans of open layers at a bounded rate, one span per request, taking layers
 * in turn.
 *
 * <h2>Rules</h2>
 *
 * <ul>
 *   <li>Rate: starting a span charges its compressed length; the next start waits until the charges
 *       fit {@code bytesPerSecond} since the first start, so at most one span's worth of bytes runs
 *       ahead of the rate.
 *   <li>Concurrency: at most {@code concurrency} span fetches are in flight.
 *   <li>Foreground first: nothing starts while a read or prefetch waits for spans, and fetching
 *       resumes when the last one ends. A read that needs a span being fetched here shares that
 *       fetch, so no read waits for more than the background span fetches already in flight.
 *   <li>A layer leaves the queue when it is released, when no span is left, or after a failed
 *       fetch, which is logged; reads still fetch the spans they need.
 * </ul>
 *
 * <p>Thread-safe. This object's monitor guards the queue, the count in flight and the rate state;
 * it is never held while calling a {@link SpanManager}, the executor or the scheduler.
 */
final class BackgroundFetcher implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(BackgroundFetcher.class);
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private final long bytesPerSecond;
  private final int concurrency;
  private final Ticker ticker;
  private final Scheduler scheduler;
  private final Executor executor;
  private final ForegroundActivity foreground;

  /** Layers with spans left, the next to serve first. */
  @GuardedBy("this")
  private final ArrayDeque<SpanManager> layers = new ArrayDeque<>();

  @GuardedBy("this")
  private int inFlight;

  /** The ticker time before which no fetch may start. */
  @GuardedBy("this")
  private long nextStartNanos;

  @GuardedBy("this")
  private boolean wakeScheduled;

  @GuardedBy("this")
  private boolean closed;

  BackgroundFetcher(
      long bytesPerSecond,
      int concurrency,
      Ticker ticker,
      Scheduler scheduler,
      Executor executor,
      ForegroundActivity foreground) {
    this.bytesPerSecond = bytesPerSecond;
    this.concurrency = concurrency;
    this.ticker = ticker;
    this.scheduler = scheduler;
    this.executor = executor;
    this.foreground = foreground;
    this.nextStartNanos = ticker.read();
    foreground.onIdle(this::wake);
  }

  /** Queues the layer's remaining spans; the fetcher starts on the executor. */
  void add(SpanManager layer) {
    synchronized (this) {
      if (closed || layers.contains(layer)) {
        return;
      }
      layers.addLast(layer);
    }
    wake();
  }

  /** Drops the layer; a fetch of it in flight completes and caches its span. */
  synchronized void remove(SpanManager layer) {
    layers.remove(layer);
  }

  /** Returns whether the layer is queued, which stops once all its spans are fetched. */
  synchronized boolean isQueued(SpanManager layer) {
    return layers.contains(layer);
  }

  private void wake() {
    try {
      executor.execute(this::pump);
    } catch (RejectedExecutionException e) {
      logger.debug("background fetch not started, the executor is shut down");
    }
  }

  /** Starts span fetches while the rules allow; bounded by the queue and the concurrency. */
  void pump() {
    int rounds;
    synchronized (this) {
      rounds = layers.size() + concurrency;
    }
    for (int round = 0; round < rounds; round++) {
      // Decide under the lock whether a fetch may start, and for which layer.
      SpanManager layer;
      long wakeDelayNanos = -1;
      synchronized (this) {
        if (closed || inFlight >= concurrency || layers.isEmpty() || foreground.isBusy()) {
          return;
        }
        long now = ticker.read();
        if (now - nextStartNanos < 0) {
          if (!wakeScheduled) {
            wakeScheduled = true;
            wakeDelayNanos = nextStartNanos - now;
          }
          layer = null;
        } else {
          layer = layers.pollFirst();
          inFlight++;
        }
      }
      if (layer == null) {
        if (wakeDelayNanos >= 0) {
          scheduleWake(wakeDelayNanos);
        }
        return;
      }

      // Claim the layer's next span outside the lock, then charge it to the rate.
      Ticket ticket = layer.claimBackgroundSpan();
      synchronized (this) {
        if (ticket == null) {
          inFlight--;
        } else {
          long now = ticker.read();
          long charge = layer.compressedLength(ticket.spanId()) * NANOS_PER_SECOND / bytesPerSecond;
          nextStartNanos = Math.max(nextStartNanos, now) + charge;
          if (!closed && !layer.isClosed()) {
            layers.addLast(layer);
          }
        }
      }
      if (ticket == null) {
        logger.debug("background fetch done layer={}", layer.layer());
        continue;
      }
      start(layer, ticket);
    }
  }

  private void start(SpanManager layer, Ticket ticket) {
    try {
      executor.execute(() -> fetch(layer, ticket));
    } catch (RejectedExecutionException e) {
      layer.abandonBackground(ticket, e);
      synchronized (this) {
        inFlight--;
      }
    }
  }

  private void fetch(SpanManager layer, Ticket ticket) {
    Throwable failure = null;
    try {
      failure = layer.fetchInBackground(ticket);
    } finally {
      synchronized (this) {
        inFlight--;
        if (failure != null) {
          layers.remove(layer);
        }
      }
    }
    if (failure != null) {
      logger.warn(
          "background fetch of the layer stopped after a failure; reads still fetch the spans they"
              + " need layer={} span={}",
          layer.layer(),
          ticket.spanId(),
          failure);
    }
    pump();
  }

  private void scheduleWake(long delayNanos) {
    Runnable wakeUp =
        () -> {
          synchronized (this) {
            wakeScheduled = false;
          }
          pump();
        };
    try {
      scheduler.schedule(executor, wakeUp, delayNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      synchronized (this) {
        wakeScheduled = false;
      }
      logger.debug("background fetch not rescheduled, the scheduler is shut down");
    }
  }

  /** Stops starting fetches; those in flight complete. */
  @Override
  public synchronized void close() {
    closed = true;
    layers.clear();
  }
}
