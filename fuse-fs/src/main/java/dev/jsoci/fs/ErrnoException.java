package dev.jsoci.fs;

import org.jspecify.annotations.Nullable;

/**
 * A filesystem operation failed with {@link #errno()}, the error number a local filesystem would
 * return in the same case.
 */
public final class ErrnoException extends Exception {
  private final Errno errno;

  public ErrnoException(Errno errno, String message) {
    super(message);
    this.errno = errno;
  }

  public ErrnoException(Errno errno, String message, @Nullable Throwable cause) {
    super(message, cause);
    this.errno = errno;
  }

  public Errno errno() {
    return errno;
  }
}
