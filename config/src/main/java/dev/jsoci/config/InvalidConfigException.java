package dev.jsoci.config;

import java.io.IOException;

/**
 * A configuration file that cannot be used: unreadable, not valid TOML, or a key whose value has
 * the wrong type or is out of range. The message names the file, the key and the value.
 */
public final class InvalidConfigException extends IOException {
  private static final long serialVersionUID = 1L;

  public InvalidConfigException(String message) {
    super(message);
  }

  public InvalidConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
