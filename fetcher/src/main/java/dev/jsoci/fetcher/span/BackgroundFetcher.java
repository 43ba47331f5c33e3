package dev.jsoci.fetcher.span;

import com.github.benmanes.caffeine.cache.Scheduler;
import com.github.benmanes.caffeine.cache.Ticker;
import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.jsoci.fetcher.span.SpanTable.Ticket;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

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
 *       fetch, which is logged; reads still fetch the spans they need. A layer that left after a
 *       failure, or with spans whose last fetch failed, is queued again after {@link
 *       #FIRST_RETRY_DELAY}, doubled after each further failure up to {@link #MAX_RETRY_DELAY}, and
 *       the fetcher walks its spans from the first one again, so a registry outage does not end
 *       background fetching for good.
 *   <li>Queue limit: when {@code queueLimit} layers are queued, adding one more gives up either the
 *       layer being added or the layer at the head of the queue, which is counted and logged.
 *   <li>Silence: {@link #silence()} delays every start by up to {@code silence} from the call, on
 *       top of the rate, so that a new image's start-up reads have the link to themselves.
 * </ul>
 *
 * <p>Thread-safe. This object's monitor guards the queue, the count in flight and the rate state;
 * it is never held while calling a {@link SpanManager}, the executor or the scheduler.
 */
final class BackgroundFetcher implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(BackgroundFetcher.class);
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  /** How long after a failed background fetch its layer is queued again. */
  static final Duration FIRST_RETRY_DELAY = Duration.ofSeconds(30);

  /** The maximum delay before a layer whose background fetches keep failing is queued again. */
  static final Duration MAX_RETRY_DELAY = Duration.ofMinutes(10);

  private final long bytesPerSecond;
  private final int concurrency;
  private final Ticker ticker;
  private final Scheduler scheduler;
  private final Executor executor;
  private final ForegroundActivity foreground;
  private final int queueLimit;
  private final boolean dropOldest;
  private final long silenceNanos;

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

  /** The delay before the next retry of layers whose background fetch failed, by layer. */
  private final Map<SpanManager, Duration> retryDelays =
      Collections.synchronizedMap(new WeakHashMap<>());

  /** Layers given up because the queue was full. */
  @GuardedBy("this")
  private long evictions;

  /**
   * @param queueLimit the most layers queued, or -1 for no limit
   * @param dropOldest whether a full queue gives up its head instead of the layer being added
   * @param silence how long {@link #silence()} delays the starts
   */
  BackgroundFetcher(
      long bytesPerSecond,
      int concurrency,
      int queueLimit,
      boolean dropOldest,
      Duration silence,
      Ticker ticker,
      Scheduler scheduler,
      Executor executor,
      ForegroundActivity foreground) {
    this.bytesPerSecond = bytesPerSecond;
    this.concurrency = concurrency;
    this.queueLimit = queueLimit;
    this.dropOldest = dropOldest;
    this.silenceNanos = silence.toNanos();
    this.ticker = ticker;
    this.scheduler = scheduler;
    this.executor = executor;
    this.foreground = foreground;
    this.nextStartNanos = ticker.read();
    foreground.onIdle(this::wake);
  }

  /**
   * Queues the layer's remaining spans; the fetcher starts on the executor. When the queue is full,
   * the layer being added or the one at the head is given up, as {@code dropOldest} selects.
   */
  void add(SpanManager layer) {
    SpanManager dropped = null;
    synchronized (this) {
      if (closed || layers.contains(layer)) {
        return;
      }
      if (queueLimit >= 0 && layers.size() >= queueLimit) {
        evictions++;
        if (!dropOldest) {
          dropped = layer;
        } else {
          dropped = layers.pollFirst();
          layers.addLast(layer);
        }
      } else {
        layers.addLast(layer);
      }
    }
    if (dropped != null) {
      logger
          .atInfo()
          .addKeyValue("layer", dropped.layer().toString())
          .addKeyValue("queue_limit", queueLimit)
          .addKeyValue("drop_policy", dropOldest ? "oldest" : "newest")
          .log(
              "background fetch queue is full; the layer is not fetched in the background, reads"
                  + " still fetch the spans they need");
    }
    wake();
  }

  /**
   * Starts no fetch for the silence period from now, in addition to the rate. Calls within the
   * period extend it; fetches in flight complete.
   */
  void silence() {
    if (silenceNanos <= 0) {
      return;
    }
    synchronized (this) {
      nextStartNanos = Math.max(nextStartNanos, ticker.read() + silenceNanos);
    }
  }

  /** Returns the number of layers queued now. */
  synchronized int queueLength() {
    return layers.size();
  }

  /** Returns the number of layers given up so far because the queue was full. */
  synchronized long evictions() {
    return evictions;
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
        if (layer.hasFailedSpans()) {
          // Spans that reads failed to fetch, behind the cursor, get another pass later.
          scheduleRetry(layer);
        } else {
          retryDelays.remove(layer);
          logger
              .atDebug()
              .addKeyValue("layer", layer.layer().toString())
              .log("background fetch done");
        }
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
      Duration delay = scheduleRetry(layer);
      LoggingEventBuilder event =
          logger
              .atWarn()
              .addKeyValue("layer", layer.layer().toString())
              .addKeyValue("span", ticket.spanId())
              .addKeyValue("retry_seconds", delay.toSeconds());
      // The message describes a registry failure, so only an unexpected failure logs its stack.
      if (failure instanceof IOException) {
        event = event.addKeyValue("error", failure.toString());
      } else {
        event = event.setCause(failure);
      }
      event.log(
          "background fetch of the layer paused after a failure; reads still fetch the spans"
              + " they need");
    }
    pump();
  }

  /**
   * Queues {@code layer} again after its retry delay, walking its spans from the first, and doubles
   * the delay for the next failure. Returns the delay.
   */
  private Duration scheduleRetry(SpanManager layer) {
    Duration delay;
    synchronized (retryDelays) {
      delay = retryDelays.getOrDefault(layer, FIRST_RETRY_DELAY);
      Duration next = delay.multipliedBy(2);
      retryDelays.put(layer, next.compareTo(MAX_RETRY_DELAY) > 0 ? MAX_RETRY_DELAY : next);
    }
    Runnable retry =
        () -> {
          if (!layer.isClosed()) {
            layer.rewindBackground();
            add(layer);
          }
        };
    try {
      scheduler.schedule(executor, retry, delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      logger.debug("background fetch retry not scheduled, the scheduler is shut down");
    }
    return delay;
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
