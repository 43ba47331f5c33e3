package dev.jsoci.config;

/**
 * Prefetch-artifact settings ({@code [prefetch]}).
 *
 * @param maxConcurrency layers that prefetch at once; -1 for unlimited
 */
public record PrefetchConfig(boolean enable, int maxConcurrency) {
  public static final PrefetchConfig DEFAULTS = new PrefetchConfig(false, -1);

  public PrefetchConfig {
    if (maxConcurrency < -1 || maxConcurrency == 0) {
      throw new IllegalArgumentException(
          "maxConcurrency must be positive or -1: " + maxConcurrency);
    }
  }
}
