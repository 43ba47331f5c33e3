package dev.jsoci.snapshotter.grpc;

import dev.jsoci.snapshotter.errdefs.AlreadyExistsException;
import dev.jsoci.snapshotter.errdefs.FailedPreconditionException;
import dev.jsoci.snapshotter.errdefs.InvalidArgumentException;
import dev.jsoci.snapshotter.errdefs.NotFoundException;
import dev.jsoci.snapshotter.errdefs.SnapshotException;
import dev.jsoci.snapshotter.errdefs.UnavailableException;
import io.grpc.Status;

/**
 * Maps snapshot errors to the gRPC status codes from which containerd's client recovers its error
 * classes ({@code errgrpc.ToNative}).
 */
final class Statuses {
  private Statuses() {}

  static Status of(SnapshotException exception) {
    Status status;
    if (exception instanceof NotFoundException) {
      status = Status.NOT_FOUND;
    } else if (exception instanceof AlreadyExistsException) {
      status = Status.ALREADY_EXISTS;
    } else if (exception instanceof FailedPreconditionException) {
      status = Status.FAILED_PRECONDITION;
    } else if (exception instanceof InvalidArgumentException) {
      status = Status.INVALID_ARGUMENT;
    } else if (exception instanceof UnavailableException) {
      status = Status.UNAVAILABLE;
    } else {
      throw new IllegalArgumentException("unmapped snapshot error class: " + exception.getClass());
    }
    return status.withDescription(exception.getMessage());
  }
}
