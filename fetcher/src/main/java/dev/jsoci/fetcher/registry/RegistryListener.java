package dev.jsoci.fetcher.registry;

import java.io.IOException;
import java.time.Duration;

/**
 * Receives one event per HTTP exchange the registry client makes and the body bytes it receives,
 * for counters such as {@link RegistryStatistics}.
 *
 * <p>Methods are called on the thread that performs the request, often while a read is in progress,
 * so they must be fast and thread-safe. {@code registry} is the registry host of the image
 * reference (for example {@code docker.io}); {@code host} is the {@code host[:port]} that was
 * contacted, which differs for mirrors, token servers and redirect targets.
 */
public interface RegistryListener {
  /** A listener that ignores every event. */
  RegistryListener NONE = new RegistryListener() {};

  /** Called when response headers arrive, once per request sent, redirects included. */
  default void responseReceived(String registry, String host, String method, int statusCode) {}

  /**
   * Called when response headers arrive, like the method above, with the time from sending the
   * request to receiving the headers. The default calls {@link #responseReceived(String, String,
   * String, int)}.
   */
  default void responseReceived(
      String registry, String host, String method, int statusCode, Duration elapsed) {
    responseReceived(registry, host, method, statusCode);
  }

  /** Called when a request fails without a response, for example on a refused connection. */
  default void requestFailed(String registry, String host, String method, IOException failure) {}

  /** Called after each read of a response body with the number of bytes it returned. */
  default void bytesReceived(String registry, String host, long byteCount) {}

  /** Called before the client waits {@code delay} and sends a request again. */
  default void retryScheduled(String registry, String host, String method, Duration delay) {}
}
