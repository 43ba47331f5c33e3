package dev.jsoci.config;

/**
 * Prefetch-artifact settings ({@code [prefetch]}).
 *
 * @param enable whether a mount fetches the spans that the layer's prefetch artifact lists
 * @param maxConcurrency layers that prefetch at once; -1 for unlimited
 */
public record PrefetchConfig(boolean enable, int maxConcurrency) {
  /**
   * On, without a limit. The SOCI reference snapshotter has prefetching off by default because its
   * mounts wait for the prefetch; here they do not, so a prefetch only moves those fetches earlier.
   */
  public static final PrefetchConfig DEFAULTS = new PrefetchConfig(true, -1);

  public PrefetchConfig {
    if (maxConcurrency < -1 || maxConcurrency == 0) {
      throw new IllegalArgumentException(
          "maxConcurrency must be positive or -1: " + maxConcurrency);
    }
  }
}
