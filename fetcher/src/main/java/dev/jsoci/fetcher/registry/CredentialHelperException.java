package dev.jsoci.fetcher.registry;

import java.io.IOException;

/**
 * A Docker credential helper that is missing, fails, times out or prints unusable output. The
 * transport does not retry requests that fail this way, because a retry would most likely run into
 * the same helper failure, and each attempt could wait for the helper's timeout again.
 */
public final class CredentialHelperException extends IOException {
  private static final long serialVersionUID = 1L;

  CredentialHelperException(String message) {
    super(message);
  }

  CredentialHelperException(String message, Throwable cause) {
    super(message, cause);
  }
}
