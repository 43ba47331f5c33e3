package dev.jsoci.fetcher.registry;

import java.io.IOException;

/**
 * An entry of a Docker {@code config.json} that cannot be used, such as an {@code auth} value that
 * is not base64. The transport does not retry requests that fail this way, because every attempt
 * reads the same entry.
 */
public final class CredentialConfigException extends IOException {
  private static final long serialVersionUID = 1L;

  CredentialConfigException(String message) {
    super(message);
  }

  CredentialConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
