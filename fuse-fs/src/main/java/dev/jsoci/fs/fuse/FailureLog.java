package dev.jsoci.fs.fuse;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Logs the failures a mount turns into {@code EIO} at WARN, at most once per interval; the ones in
 * between go to DEBUG and are counted in the next WARN line, so a broken layer cannot flood the
 * log.
 */
final class FailureLog {
  private final Logger logger;
  private final String layer;
  private final long intervalNanos;
  private final LongSupplier nanoTime;
  private final AtomicLong nextWarnNanos;
  private final AtomicLong suppressed = new AtomicLong();

  FailureLog(Logger logger, String layer, Duration interval, LongSupplier nanoTime) {
    this.logger = logger;
    this.layer = layer;
    this.intervalNanos = interval.toNanos();
    this.nanoTime = nanoTime;
    this.nextWarnNanos = new AtomicLong(nanoTime.getAsLong());
  }

  /** Logs a failure that the reading process gets as {@code EIO}, with the cause's message. */
  void failed(String op, String path, String error) {
    if (tryWarn()) {
      logger.warn(
          "returning EIO: op={} path={} layer={} error={} suppressed={}",
          op,
          path,
          layer,
          error,
          suppressed.getAndSet(0));
    } else {
      suppressed.incrementAndGet();
      logger.debug("returning EIO: op={} path={} layer={} error={}", op, path, layer, error);
    }
  }

  /** Logs an exception no operation expects, with its stack trace, before it becomes EIO. */
  void unexpected(String op, String path, Throwable exception) {
    if (tryWarn()) {
      logger.warn(
          "unexpected failure, returning EIO: op={} path={} layer={} suppressed={}",
          op,
          path,
          layer,
          suppressed.getAndSet(0),
          exception);
    } else {
      suppressed.incrementAndGet();
      logger.debug(
          "unexpected failure, returning EIO: op={} path={} layer={}", op, path, layer, exception);
    }
  }

  private boolean tryWarn() {
    long now = nanoTime.getAsLong();
    long next = nextWarnNanos.get();
    return now - next >= 0 && nextWarnNanos.compareAndSet(next, now + intervalNanos);
  }
}
