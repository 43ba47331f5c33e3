package dev.jsoci.snapshotter.errdefs;

/** A remote layer the snapshot depends on cannot serve reads. */
public final class UnavailableException extends SnapshotException {
  private static final long serialVersionUID = 1L;

  /** Creates the error {@code <subject>: unavailable}. */
  public UnavailableException(String subject) {
    super(subject, "unavailable");
  }

  public UnavailableException(String subject, Throwable cause) {
    super(subject, "unavailable", cause);
  }
}
