package dev.jsoci.snapshotter.errdefs;

/**
 * The request itself is invalid: a parent that is not committed, an unknown update path, a filter
 * that does not parse.
 */
public final class InvalidArgumentException extends SnapshotException {
  private static final long serialVersionUID = 1L;

  /** Creates the error {@code <subject>: invalid argument}. */
  public InvalidArgumentException(String subject) {
    super(subject, "invalid argument");
  }

  public InvalidArgumentException(String subject, Throwable cause) {
    super(subject, "invalid argument", cause);
  }
}
