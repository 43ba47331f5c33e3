package dev.jsoci.fetcher.span;

/** Why spans are loaded, which decides where they are cached and how they are counted. */
public enum FetchPurpose {
  /** A read that waits for the span. */
  READ,
  /**
   * The readahead of a sequential reader, which is expected to need the spans next: they are
   * inflated into the memory cache as well.
   */
  READAHEAD,
  /**
   * Spans named ahead of any read, such as those of a prefetch artifact: they go to the disk cache
   * and are inflated when read, or into memory when there is no disk cache.
   */
  PREFETCH,
  /** The background fetcher, which loads the rest of a layer while no read waits. */
  BACKGROUND
}
