package dev.jsoci.snapshotter.errdefs;

/** A snapshot of that name exists already; also how a prepared remote layer is reported. */
public final class AlreadyExistsException extends SnapshotException {
  private static final long serialVersionUID = 1L;

  /** Creates the error {@code <subject>: already exists}. */
  public AlreadyExistsException(String subject) {
    super(subject, "already exists");
  }

  public AlreadyExistsException(String subject, Throwable cause) {
    super(subject, "already exists", cause);
  }
}
