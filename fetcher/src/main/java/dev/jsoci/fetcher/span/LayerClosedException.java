package dev.jsoci.fetcher.span;

import java.io.IOException;

/** A read reached a {@link SpanManager} after its layer was released. */
public final class LayerClosedException extends IOException {
  private static final long serialVersionUID = 1L;

  LayerClosedException(String layer) {
    super("layer " + layer + " is released; open it again to read it");
  }
}
