package dev.jsoci.fs.fuse;

import dev.jsoci.fs.Errno;
import ru.serce.jnrfuse.ErrorCodes;

/** Maps error names to the platform's error numbers, as FUSE callbacks return them (negated). */
final class ErrnoCodes {
  private ErrnoCodes() {}

  /** Returns the platform's number for {@code errno}, such as 2 for ENOENT on Linux. */
  static int of(Errno errno) {
    // jnr-fuse 0.5.8's ErrorCodes.ENOTSUP() returns 45 on Linux, where the number is 95; the
    // names used here come out right.
    return switch (errno) {
      case ENOENT -> ErrorCodes.ENOENT();
      case EIO -> ErrorCodes.EIO();
      case ENOTDIR -> ErrorCodes.ENOTDIR();
      case EISDIR -> ErrorCodes.EISDIR();
      case EINVAL -> ErrorCodes.EINVAL();
      case EROFS -> ErrorCodes.EROFS();
      case ENODATA -> ErrorCodes.ENODATA();
      case ERANGE -> ErrorCodes.ERANGE();
      case ENOSYS -> ErrorCodes.ENOSYS();
    };
  }
}
