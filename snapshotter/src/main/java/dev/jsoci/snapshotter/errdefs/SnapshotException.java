package dev.jsoci.snapshotter.errdefs;

/**
 * A snapshot request that cannot be carried out for a reason the client must see, in one of the
 * error classes containerd defines. The message ends with the class's text (for example {@code
 * snapshot foo: not found}), because some containerd clients match on it.
 */
public abstract sealed class SnapshotException extends Exception
    permits NotFoundException,
        AlreadyExistsException,
        FailedPreconditionException,
        InvalidArgumentException,
        UnavailableException {
  private static final long serialVersionUID = 1L;

  SnapshotException(String subject, String classText) {
    super(subject.isEmpty() ? classText : subject + ": " + classText);
  }

  SnapshotException(String subject, String classText, Throwable cause) {
    super(subject.isEmpty() ? classText : subject + ": " + classText, cause);
  }
}
