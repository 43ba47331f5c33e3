package dev.jsoci.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Background fetcher settings ({@code [background_fetch]}).
 *
 * @param silencePeriod pause after a new image's first layer is mounted
 * @param fetchPeriod interval between the starts of two background span fetches, daemon-wide
 * @param maxQueueSize layers waiting for background fetch; -1 for unlimited
 * @param dropPolicy which job is dropped when the queue is full
 * @param emitMetricPeriod interval between two reports of the queue length
 */
public record BackgroundFetchConfig(
    boolean disable,
    Duration silencePeriod,
    Duration fetchPeriod,
    int maxQueueSize,
    DropPolicy dropPolicy,
    Duration emitMetricPeriod) {

  public static final BackgroundFetchConfig DEFAULTS =
      new BackgroundFetchConfig(
          false,
          Duration.ofMillis(30_000),
          Duration.ofMillis(500),
          300,
          DropPolicy.NEWEST,
          Duration.ofSeconds(10));

  public BackgroundFetchConfig {
    Objects.requireNonNull(silencePeriod, "silencePeriod");
    Objects.requireNonNull(fetchPeriod, "fetchPeriod");
    Objects.requireNonNull(dropPolicy, "dropPolicy");
    Objects.requireNonNull(emitMetricPeriod, "emitMetricPeriod");
    if (maxQueueSize < -1 || maxQueueSize == 0) {
      throw new IllegalArgumentException("maxQueueSize must be positive or -1: " + maxQueueSize);
    }
  }

  /** The job a full background-fetch queue drops. */
  public enum DropPolicy {
    /** Drops the job being added. */
    NEWEST,
    /** Drops the job at the head of the queue. */
    OLDEST
  }
}
