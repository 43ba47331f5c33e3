package dev.jsoci.convert;

import java.io.IOException;

/**
 * A conversion that cannot go on: the source is not an image, a requested platform is missing, or
 * no layer got a zTOC. The message names the image reference and the value at fault.
 */
public final class ConvertException extends IOException {
  private static final long serialVersionUID = 1L;

  public ConvertException(String message) {
    super(message);
  }

  public ConvertException(String message, Throwable cause) {
    super(message, cause);
  }
}
