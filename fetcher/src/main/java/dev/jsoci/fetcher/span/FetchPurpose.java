package dev.jsoci.fetcher.span;

/** Why spans are loaded, which decides where they are cached and how they are counted. */
public enum FetchPurpose {
  /** A read that waits for the span. */
  READ,
  /** A prefetch or a readahead: nothing waits yet. */
  PREFETCH,
  /** The background fetcher, which loads the rest of a layer while no read waits. */
  BACKGROUND
}
