package dev.jsoci.fs;

import java.io.IOException;

/** The TOC of a layer cannot be turned into a filesystem tree, so the layer cannot be mounted. */
public final class InvalidLayerException extends IOException {
  public InvalidLayerException(String message) {
    super(message);
  }
}
