package dev.jsoci.fetcher.registry;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link RegistryListener} that counts requests, failures, retries and received bytes per
 * registry host of the image reference. Thread-safe.
 */
public final class RegistryStatistics implements RegistryListener {
  private final Map<String, Counters> byRegistry = new ConcurrentHashMap<>();

  /**
   * The counts for one registry.
   *
   * @param requests requests that received a response, redirects and retries included
   * @param failures requests that failed without a response
   * @param retries requests sent again after a failure or a retryable status
   * @param bytesReceived response body bytes read
   */
  public record Counts(long requests, long failures, long retries, long bytesReceived) {}

  @Override
  public void responseReceived(String registry, String host, String method, int statusCode) {
    countersOf(registry).requests.increment();
  }

  @Override
  public void requestFailed(String registry, String host, String method, IOException failure) {
    countersOf(registry).failures.increment();
  }

  @Override
  public void bytesReceived(String registry, String host, long byteCount) {
    countersOf(registry).bytesReceived.add(byteCount);
  }

  @Override
  public void retryScheduled(String registry, String host, String method, Duration delay) {
    countersOf(registry).retries.increment();
  }

  /** Returns the counts so far, keyed by registry host in alphabetical order. */
  public Map<String, Counts> snapshot() {
    Map<String, Counts> result = new TreeMap<>();
    byRegistry.forEach((registry, counters) -> result.put(registry, counters.toCounts()));
    return result;
  }

  private Counters countersOf(String registry) {
    return byRegistry.computeIfAbsent(registry, unused -> new Counters());
  }

  private static final class Counters {
    final LongAdder requests = new LongAdder();
    final LongAdder failures = new LongAdder();
    final LongAdder retries = new LongAdder();
    final LongAdder bytesReceived = new LongAdder();

    Counts toCounts() {
      return new Counts(requests.sum(), failures.sum(), retries.sum(), bytesReceived.sum());
    }
  }
}
