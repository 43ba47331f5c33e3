package dev.jsoci.snapshotter;

import java.io.IOException;

/**
 * Thrown by {@link RemoteLayerMounter#mount} when the layer's image has no usable SOCI index: none
 * was found, or finding it or its zTOC failed. The snapshotter then lets containerd download the
 * layer, as it does for an image that was never converted.
 */
public class NoSociIndexException extends IOException {
  public NoSociIndexException(String message) {
    super(message);
  }

  public NoSociIndexException(String message, Throwable cause) {
    super(message, cause);
  }
}
