package dev.jsoci.fetcher.registry;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tries an operation on each endpoint of a registry in order (mirrors first, the origin last) until
 * one succeeds, as containerd does with the hosts of {@code hosts.toml}.
 */
final class EndpointFallback {
  private static final Logger logger = LoggerFactory.getLogger(EndpointFallback.class);

  private EndpointFallback() {}

  @FunctionalInterface
  interface Attempt<T> {
    T run(RegistryEndpoint endpoint) throws IOException;
  }

  /**
   * Returns the result of the first endpoint that succeeds. When all fail, throws the failure of
   * the last endpoint, with the earlier failures attached as suppressed exceptions.
   */
  static <T> T tryInOrder(List<RegistryEndpoint> endpoints, Attempt<T> attempt) throws IOException {
    List<IOException> failures = new ArrayList<>();
    for (RegistryEndpoint endpoint : endpoints) {
      try {
        return attempt.run(endpoint);
      } catch (InterruptedIOException e) {
        throw e;
      } catch (IOException e) {
        failures.add(e);
        if (failures.size() < endpoints.size()) {
          logger.debug(
              "registry host failed, trying the next one host={} error={}",
              endpoint.authority(),
              e.getMessage());
        }
      }
    }
    if (failures.isEmpty()) {
      throw new IllegalArgumentException("endpoints must not be empty");
    }
    IOException last = failures.get(failures.size() - 1);
    for (IOException earlier : failures.subList(0, failures.size() - 1)) {
      last.addSuppressed(earlier);
    }
    throw last;
  }
}
