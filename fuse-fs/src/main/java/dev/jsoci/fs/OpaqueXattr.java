package dev.jsoci.fs;

import dev.jsoci.ztoc.ByteString;

/**
 * The xattr that marks an opaque directory for overlayfs; which one depends on how the overlay is
 * mounted.
 */
public enum OpaqueXattr {
  /** {@code trusted.overlay.opaque}, for an overlay mounted without {@code userxattr}. */
  TRUSTED("trusted.overlay.opaque"),
  /** {@code user.overlay.opaque}, for an overlay mounted with {@code userxattr}. */
  USER("user.overlay.opaque");

  private final ByteString xattrName;

  OpaqueXattr(String xattrName) {
    this.xattrName = ByteString.utf8(xattrName);
  }

  public ByteString xattrName() {
    return xattrName;
  }
}
