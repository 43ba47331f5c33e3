package dev.jsoci.ztoc.zstd;

import java.io.IOException;

/**
 * Thrown when compressed bytes are not a valid zstd stream: a corrupt or truncated frame, or bytes
 * that are not zstd at all. The message names the stream and, except for empty input, the
 * compressed byte offset.
 */
public final class ZstdFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  ZstdFormatException(String message) {
    super(message);
  }
}
