package dev.jsoci.fetcher.registry;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tries an operation on each endpoint of a registry in order (mirrors first, the origin last) until
 * one succeeds, as containerd does with the hosts of {@code hosts.toml}.
 *
 * <p>Every endpoint but the last gets one attempt ({@link RegistryEndpoint#failingFast()}), so a
 * host that is down costs one failed request rather than the retries and backoff of the last host.
 * One that could not be reached at all (no response) is then skipped for {@link
 * HostsDirectory#UNREACHABLE_SKIP}.
 */
final class EndpointFallback {
  private static final Logger retryLogger = LoggerFactory.getLogger(RegistryClient.RETRY_LOGGER);

  private EndpointFallback() {}

  @FunctionalInterface
  interface Attempt<T> {
    T run(RegistryEndpoint endpoint) throws IOException;
  }

  /**
   * Returns the result of the first endpoint that succeeds. When all fail, throws the failure of
   * the last endpoint, with the earlier failures attached as suppressed exceptions.
   *
   * @param hosts where unreachable endpoints are remembered and skipped
   */
  static <T> T tryInOrder(
      HostsDirectory hosts, List<RegistryEndpoint> endpoints, Attempt<T> attempt)
      throws IOException {
    if (endpoints.isEmpty()) {
      throw new IllegalArgumentException("endpoints must not be empty");
    }
    List<RegistryEndpoint> tried = hosts.reachable(endpoints);
    List<IOException> failures = new ArrayList<>();
    for (int i = 0; i < tried.size(); i++) {
      RegistryEndpoint endpoint = tried.get(i);
      boolean last = i == tried.size() - 1;
      try {
        return attempt.run(last ? endpoint : endpoint.failingFast());
      } catch (InterruptedIOException e) {
        throw e;
      } catch (IOException e) {
        failures.add(e);
        if (!last) {
          if (isUnreachable(e)) {
            hosts.markUnreachable(endpoint, e);
          }
          // A host that does not respond costs a whole timeout, so the command line shows it.
          retryLogger.info(
              "registry host {} failed, trying {} next: {}",
              endpoint.authority(),
              tried.get(i + 1).authority(),
              e.getMessage());
        }
      }
    }
    IOException lastFailure = failures.get(failures.size() - 1);
    for (IOException earlier : failures.subList(0, failures.size() - 1)) {
      lastFailure.addSuppressed(earlier);
    }
    throw lastFailure;
  }

  /**
   * Returns whether {@code failure} came without any response from the host: a refused connection,
   * an unknown host name, a failed TLS handshake, or a connect, read or call timeout (OkHttp
   * reports the last as an {@link InterruptedIOException}).
   */
  static boolean isUnreachable(IOException failure) {
    if (failure instanceof RegistryException registry && registry.statusCode() > 0) {
      return false;
    }
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof ConnectException
          || cause instanceof NoRouteToHostException
          || cause instanceof UnknownHostException
          || cause instanceof InterruptedIOException
          || cause instanceof SSLException) {
        return true;
      }
    }
    return false;
  }
}
