package dev.jsoci.ztoc;

import java.io.IOException;

/** A zTOC, a checkpoint blob or compressed span data that cannot be decoded. */
public class ZtocFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public ZtocFormatException(String message) {
    super(message);
  }

  public ZtocFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
