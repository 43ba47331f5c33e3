package dev.jsoci.snapshotter.errdefs;

/** A snapshot, or the parent it names, does not exist. */
public final class NotFoundException extends SnapshotException {
  private static final long serialVersionUID = 1L;

  /** Creates the error {@code <subject>: not found}. */
  public NotFoundException(String subject) {
    super(subject, "not found");
  }

  public NotFoundException(String subject, Throwable cause) {
    super(subject, "not found", cause);
  }
}
