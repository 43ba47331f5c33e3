package dev.jsoci.ztoc;

import java.io.IOException;

/**
 * A layer blob that cannot be indexed: not gzip or tar, truncated or corrupt. The message names
 * the layer and the byte offset where the problem was found.
 */
public class LayerFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String layer;
  private final long offset;

  /**
   * @param layer the layer's name for messages (a digest or a file path)
   * @param offset the byte offset of the problem, or -1 when no offset applies
   * @param reason what is wrong, a short lower-case phrase
   */
  public LayerFormatException(String layer, long offset, String reason) {
    super(format(layer, offset, reason));
    this.layer = layer;
    this.offset = offset;
  }

  public LayerFormatException(String layer, long offset, String reason, Throwable cause) {
    super(format(layer, offset, reason), cause);
    this.layer = layer;
    this.offset = offset;
  }

  private static String format(String layer, long offset, String reason) {
    return offset < 0
        ? "layer " + layer + ": " + reason
        : "layer " + layer + " at byte " + offset + ": " + reason;
  }

  public String layer() {
    return layer;
  }

  /** Returns the byte offset of the problem, or -1 when no offset applies. */
  public long offset() {
    return offset;
  }
}
