package dev.jsoci.convert;

import java.io.IOException;

/**
 * An image, manifest or blob that a store does not have, or a directory that is not an OCI image
 * layout. The message names the store and what is missing.
 */
public final class ImageNotFoundException extends IOException {
  private static final long serialVersionUID = 1L;

  public ImageNotFoundException(String message) {
    super(message);
  }
}
