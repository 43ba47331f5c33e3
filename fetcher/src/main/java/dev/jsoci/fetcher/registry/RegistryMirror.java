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
 * @param plainHttp whether the mirror is reached over plain HTTP, whatever {@code scheme} is
 * @param callTimeout the longest time one attempt at the mirror may take, {@link Duration#ZERO} for
 *     no limit, or null for the client's call timeout
 * @param scheme {@code http} or {@code https}, or null for HTTP on localhost and loopback addresses
 *     and HTTPS elsewhere
 * @param apiPath the path of the API root without a trailing slash, such as {@code /cache/v2}, or
 *     empty for {@code /v2}
 */
public record RegistryMirror(
    String host,
    boolean plainHttp,
    @Nullable Duration callTimeout,
    @Nullable String scheme,
    String apiPath) {
  public RegistryMirror {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(apiPath, "apiPath");
    if (host.isEmpty() || host.contains("/") || HttpUrl.parse("https://" + host + "/") == null) {
      throw new IllegalArgumentException(
          "invalid mirror host \""
              + host
              + "\": expected a host name or IP address and an optional port, without scheme or"
              + " path, such as \"mirror.example.com:5000\"");
    }
    if (scheme != null && !scheme.equals("http") && !scheme.equals("https")) {
      throw new IllegalArgumentException(
          "invalid mirror scheme \"" + scheme + "\": expected http or https");
    }
    if (!apiPath.isEmpty()
        && (!apiPath.startsWith("/")
            || apiPath.endsWith("/")
            || HttpUrl.parse("https://" + host + apiPath + "/") == null)) {
      throw new IllegalArgumentException(
          "invalid mirror API path \""
              + apiPath
              + "\": expected a path that starts with / and does not end with /, such as"
              + " \"/cache/v2\"");
    }
    if (callTimeout != null && callTimeout.isNegative()) {
      throw new IllegalArgumentException(
          "mirror call timeout must not be negative: " + callTimeout);
    }
  }

  /** Returns a mirror with the default scheme and the API root {@code /v2}. */
  public RegistryMirror(String host, boolean plainHttp, @Nullable Duration callTimeout) {
    this(host, plainHttp, callTimeout, null, "");
  }
}
