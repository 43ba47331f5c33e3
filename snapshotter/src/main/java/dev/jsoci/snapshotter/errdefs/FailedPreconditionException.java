package dev.jsoci.snapshotter.errdefs;

/**
 * The snapshot is in the wrong state for the operation, such as removing a snapshot that has
 * children.
 */
public final class FailedPreconditionException extends SnapshotException {
  private static final long serialVersionUID = 1L;

  /** Creates the error {@code <subject>: failed precondition}. */
  public FailedPreconditionException(String subject) {
    super(subject, "failed precondition");
  }

  public FailedPreconditionException(String subject, Throwable cause) {
    super(subject, "failed precondition", cause);
  }
}
