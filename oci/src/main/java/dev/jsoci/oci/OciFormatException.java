package dev.jsoci.oci;

import java.io.IOException;

/**
 * A manifest, image index or SOCI index whose JSON is invalid or breaks a rule of the OCI image
 * specification. The message names the member (for example {@code layers[2].digest}) and the value.
 */
public class OciFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public OciFormatException(String message) {
    super(message);
  }

  public OciFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
