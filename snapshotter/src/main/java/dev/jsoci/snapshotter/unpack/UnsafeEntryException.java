package dev.jsoci.snapshotter.unpack;

import java.io.IOException;

/**
 * A tar entry that would write outside its layer's directory: a name or hard-link target with a
 * {@code ..} component, or a parent directory that is a symbolic link.
 */
public final class UnsafeEntryException extends IOException {
  private static final long serialVersionUID = 1L;

  public UnsafeEntryException(String message) {
    super(message);
  }
}
