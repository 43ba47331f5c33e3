package dev.jsoci.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * One mirror of a registry host ({@code [[resolver.host."<host>".mirrors]]}).
 *
 * @param host host and optional port of the mirror
 * @param insecure use plain HTTP
 * @param requestTimeout per-request timeout; empty means the global request timeout, {@link
 *     Duration#ZERO} means none
 * @param scheme {@code http} or {@code https} when the {@code host} value was a URL, else empty
 * @param apiPath the path of the mirror's API root from a URL {@code host} value, such as {@code
 *     /v2} or {@code /cache/v2}, without a trailing slash; empty for {@code /v2}
 */
public record MirrorConfig(
    String host,
    boolean insecure,
    Optional<Duration> requestTimeout,
    Optional<String> scheme,
    String apiPath) {
  public MirrorConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(requestTimeout, "requestTimeout");
    Objects.requireNonNull(scheme, "scheme");
    Objects.requireNonNull(apiPath, "apiPath");
    if (host.isEmpty()) {
      throw new IllegalArgumentException("host must not be empty");
    }
  }

  /** Returns a mirror given as {@code host[:port]}, with the default scheme and API path. */
  public MirrorConfig(String host, boolean insecure, Optional<Duration> requestTimeout) {
    this(host, insecure, requestTimeout, Optional.empty(), "");
  }
}
