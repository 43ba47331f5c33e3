package dev.jsoci.fetcher.registry;

import java.io.IOException;

/**
 * A {@code ca} or {@code client} file of a hosts.toml that cannot be read or contains no usable PEM
 * data. The transport does not retry requests that fail this way, because every attempt reads the
 * same file.
 */
public final class TlsFilesException extends IOException {
  private static final long serialVersionUID = 1L;

  TlsFilesException(String message, Throwable cause) {
    super(message, cause);
  }
}
