package dev.jsoci.fetcher.discovery;

import com.github.benmanes.caffeine.cache.Ticker;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of {@link SociIndexDiscovery}.
 *
 * @param v2Enabled whether the image manifest's index digest annotation is read (index v2)
 * @param v1Enabled whether the referrers API and its tag fallback are searched (index v1)
 * @param noIndexTtl how long a definite "no index" for an image manifest is remembered; zero
 *     remembers nothing
 * @param maxRememberedImages the most image manifests remembered as having no index
 * @param ticker the time source of {@code noIndexTtl}, in nanoseconds
 */
public record DiscoveryOptions(
    boolean v2Enabled,
    boolean v1Enabled,
    Duration noIndexTtl,
    long maxRememberedImages,
    Ticker ticker) {

  public DiscoveryOptions {
    Objects.requireNonNull(noIndexTtl, "noIndexTtl");
    if (noIndexTtl.isNegative()) {
      throw new IllegalArgumentException("noIndexTtl must not be negative, found " + noIndexTtl);
    }
    if (maxRememberedImages < 0) {
      throw new IllegalArgumentException(
          "maxRememberedImages must not be negative, found " + maxRememberedImages);
    }
    Objects.requireNonNull(ticker, "ticker");
  }

  /**
   * Returns the defaults: v2 on, v1 off (as in the SOCI snapshotter since v0.10.0), "no index"
   * remembered for 60 s for up to 10,000 image manifests, on the system ticker.
   */
  public static DiscoveryOptions defaults() {
    return new DiscoveryOptions(true, false, Duration.ofSeconds(60), 10_000, Ticker.systemTicker());
  }

  public DiscoveryOptions withV1Enabled(boolean enabled) {
    return new DiscoveryOptions(v2Enabled, enabled, noIndexTtl, maxRememberedImages, ticker);
  }

  public DiscoveryOptions withV2Enabled(boolean enabled) {
    return new DiscoveryOptions(enabled, v1Enabled, noIndexTtl, maxRememberedImages, ticker);
  }

  public DiscoveryOptions withNoIndexTtl(Duration ttl) {
    return new DiscoveryOptions(v2Enabled, v1Enabled, ttl, maxRememberedImages, ticker);
  }

  public DiscoveryOptions withTicker(Ticker ticker) {
    return new DiscoveryOptions(v2Enabled, v1Enabled, noIndexTtl, maxRememberedImages, ticker);
  }
}
