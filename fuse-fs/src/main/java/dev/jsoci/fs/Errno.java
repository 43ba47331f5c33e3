package dev.jsoci.fs;

/**
 * The POSIX error numbers the layer filesystem returns, by name. The FUSE adapter turns each into
 * the platform's number.
 */
public enum Errno {
  /** No such file or directory. */
  ENOENT,
  /** Input/output error: the layer's content could not be read. */
  EIO,
  /** A path component, or the target of a directory operation, is not a directory. */
  ENOTDIR,
  /** The operation needs a non-directory. */
  EISDIR,
  /** Invalid argument, such as readlink of a file that is not a symbolic link. */
  EINVAL,
  /** Read-only filesystem: every mutation. */
  EROFS,
  /** The extended attribute does not exist. */
  ENODATA,
  /** The caller's buffer is too small for the result. */
  ERANGE,
  /** The operation is not implemented: getxattr on a layer whose xattrs are disabled. */
  ENOSYS
}
