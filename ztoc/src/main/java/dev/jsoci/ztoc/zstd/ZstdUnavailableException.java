package dev.jsoci.ztoc.zstd;

import java.io.IOException;

/** Thrown when the system zstd library cannot be loaded; the message names what to install. */
public final class ZstdUnavailableException extends IOException {
  private static final long serialVersionUID = 1L;

  ZstdUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
