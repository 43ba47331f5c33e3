package dev.jsoci.fetcher.registry;

/** The result of a blob push. */
public enum BlobPushOutcome {
  /** The repository already had the blob, so nothing was sent. */
  ALREADY_EXISTS,
  /** The registry linked the blob from another repository (cross-repository mount). */
  MOUNTED,
  /** The content was uploaded. */
  UPLOADED
}
