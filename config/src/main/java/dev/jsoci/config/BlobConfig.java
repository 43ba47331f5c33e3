package dev.jsoci.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Layer-blob access settings ({@code [blob]}).
 *
 * @param validInterval how long a successful registry access vouches for a layer before the
 *     availability check sends a request to the registry again; zero checks every time
 * @param fetchingTimeout whole-request timeout of a layer-data read
 * @param maxRetries retries of a layer-data read after the first attempt
 * @param forceSingleRangeMode never send multi-range requests
 * @param maxSpanVerificationRetries extra fetches of a span whose digest does not match
 */
public record BlobConfig(
    Duration validInterval,
    Duration fetchingTimeout,
    int maxRetries,
    Duration minWait,
    Duration maxWait,
    boolean forceSingleRangeMode,
    int maxSpanVerificationRetries) {

  public BlobConfig {
    Objects.requireNonNull(validInterval, "validInterval");
    Objects.requireNonNull(fetchingTimeout, "fetchingTimeout");
    Objects.requireNonNull(minWait, "minWait");
    Objects.requireNonNull(maxWait, "maxWait");
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must not be negative: " + maxRetries);
    }
    if (maxSpanVerificationRetries < 0) {
      throw new IllegalArgumentException(
          "maxSpanVerificationRetries must not be negative: " + maxSpanVerificationRetries);
    }
  }

  /** Returns the defaults, which take their retry and wait settings from {@code http}. */
  public static BlobConfig defaults(HttpConfig http) {
    return new BlobConfig(
        Duration.ofSeconds(60),
        Duration.ofSeconds(300),
        http.maxRetries(),
        http.minWait(),
        http.maxWait(),
        false,
        0);
  }
}
