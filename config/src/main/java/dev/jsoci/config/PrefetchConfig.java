package dev.jsoci.config;

/**
 * Prefetch-artifact settings ({@code [prefetch]}).
 *
 * @param enable whether a mount fetches the spans that the layer's prefetch artifact lists
 * @param maxConcurrency layers that prefetch at once; -1 for unlimited
 */
public record PrefetchConfig(boolean enable, int maxConcurrency) {
  /**
   * Off, and without a limit when on. On the cold-start benchmark, whose start-up reads its files
   * in layer order, prefetching gained nothing over readahead, and on a slower link it cost time.
   */
  public static final PrefetchConfig DEFAULTS = new PrefetchConfig(false, -1);

  public PrefetchConfig {
    if (maxConcurrency < -1 || maxConcurrency == 0) {
      throw new IllegalArgumentException(
          "maxConcurrency must be positive or -1: " + maxConcurrency);
    }
  }
}
