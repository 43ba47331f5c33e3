package dev.jsoci.config;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Registry resolution settings ({@code [resolver]}).
 *
 * @param authClientTtl how long a registry auth client is kept; empty means forever
 * @param mirrors mirrors in order of preference, by the registry host they stand in for
 */
public record ResolverConfig(
    Optional<Duration> authClientTtl,
    boolean enableAuthClientSharing,
    Map<String, List<MirrorConfig>> mirrors) {

  public static final ResolverConfig DEFAULTS =
      new ResolverConfig(Optional.of(Duration.ofSeconds(3600)), false, Map.of());

  public ResolverConfig {
    Objects.requireNonNull(authClientTtl, "authClientTtl");
    Map<String, List<MirrorConfig>> copy = new LinkedHashMap<>();
    mirrors.forEach((host, list) -> copy.put(host, List.copyOf(list)));
    mirrors = Collections.unmodifiableMap(copy);
  }
}
