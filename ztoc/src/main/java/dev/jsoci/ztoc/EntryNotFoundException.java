package dev.jsoci.ztoc;

import java.io.IOException;

/** A path that is not in a layer's TOC, or a link inside the layer that leads nowhere. */
public class EntryNotFoundException extends IOException {
  private static final long serialVersionUID = 1L;

  public EntryNotFoundException(String message) {
    super(message);
  }
}
