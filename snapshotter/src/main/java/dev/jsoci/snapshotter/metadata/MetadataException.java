package dev.jsoci.snapshotter.metadata;

import java.io.IOException;

/** The metadata database failed: it cannot be opened, read or written. */
public final class MetadataException extends IOException {
  private static final long serialVersionUID = 1L;

  public MetadataException(String message, Throwable cause) {
    super(message, cause);
  }
}
