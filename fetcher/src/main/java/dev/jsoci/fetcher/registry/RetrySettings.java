package dev.jsoci.fetcher.registry;

import java.time.Duration;
import java.util.Objects;

/**
 * How often a request is sent again after a retryable failure, and how long the client waits
 * between attempts.
 *
 * @param maxRetries requests sent again after the first attempt; 0 disables retries
 * @param minBackoff the base of the exponential backoff between attempts
 * @param maxBackoff the largest backoff between two attempts
 */
public record RetrySettings(int maxRetries, Duration minBackoff, Duration maxBackoff) {
  public RetrySettings {
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must not be negative, found " + maxRetries);
    }
    Objects.requireNonNull(minBackoff, "minBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    if (minBackoff.isNegative() || minBackoff.isZero()) {
      throw new IllegalArgumentException("minBackoff must be positive, found " + minBackoff);
    }
    if (maxBackoff.compareTo(minBackoff) < 0) {
      throw new IllegalArgumentException(
          "maxBackoff " + maxBackoff + " must not be shorter than minBackoff " + minBackoff);
    }
  }
}
