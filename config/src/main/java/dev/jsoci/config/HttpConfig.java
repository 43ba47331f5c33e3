package dev.jsoci.config;

import java.time.Duration;
import java.util.Objects;

/**
 * Registry HTTP client settings ({@code [http]}).
 *
 * @param maxRetries retries after the first attempt; 0 means none
 */
public record HttpConfig(
    Duration dialTimeout,
    Duration responseHeaderTimeout,
    Duration requestTimeout,
    int maxRetries,
    Duration minWait,
    Duration maxWait) {

  public static final HttpConfig DEFAULTS =
      new HttpConfig(
          Duration.ofMillis(3000),
          Duration.ofMillis(3000),
          Duration.ofMillis(300_000),
          8,
          Duration.ofMillis(30),
          Duration.ofMillis(300_000));

  public HttpConfig {
    Objects.requireNonNull(dialTimeout, "dialTimeout");
    Objects.requireNonNull(responseHeaderTimeout, "responseHeaderTimeout");
    Objects.requireNonNull(requestTimeout, "requestTimeout");
    Objects.requireNonNull(minWait, "minWait");
    Objects.requireNonNull(maxWait, "maxWait");
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must not be negative: " + maxRetries);
    }
  }
}
