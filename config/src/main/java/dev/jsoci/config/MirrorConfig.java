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
 */
public record MirrorConfig(String host, boolean insecure, Optional<Duration> requestTimeout) {
  public MirrorConfig {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(requestTimeout, "requestTimeout");
    if (host.isEmpty()) {
      throw new IllegalArgumentException("host must not be empty");
    }
  }
}
