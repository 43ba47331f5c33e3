package dev.jsoci.fetcher.registry;

import java.time.Duration;
import java.util.Objects;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * A mirror of a registry given in the client's settings rather than in a {@code hosts.toml} file.
 * It serves pulls and tag resolution, and is tried before the registry's {@code hosts.toml} hosts
 * and its origin.
 *
 * @param host the mirror's host and optional port, without scheme or path
 * @param plainHttp whether the mirror is reached over plain HTTP instead of HTTPS
 * @param callTimeout the longest time one attempt at the mirror may take, {@link Duration#ZERO} for
 *     no limit, or null for the client's call timeout
 */
public record RegistryMirror(String host, boolean plainHttp, @Nullable Duration callTimeout) {
  public RegistryMirror {
    Objects.requireNonNull(host, "host");
    if (host.isEmpty() || host.contains("/") || HttpUrl.parse("https://" + host + "/") == null) {
      throw new IllegalArgumentException(
          "invalid mirror host \""
              + host
              + "\": expected a host name or IP address and an optional port, without scheme or"
              + " path, such as \"mirror.example.com:5000\"");
    }
    if (callTimeout != null && callTimeout.isNegative()) {
      throw new IllegalArgumentException(
          "mirror call timeout must not be negative: " + callTimeout);
    }
  }
}
