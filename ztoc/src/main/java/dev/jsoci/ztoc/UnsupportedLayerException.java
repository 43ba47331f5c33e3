package dev.jsoci.ztoc;

/**
 * A well-formed layer that jsoci cannot index correctly, such as a tar with sparse files. Such a
 * layer is pulled whole instead of lazily.
 */
public class UnsupportedLayerException extends LayerFormatException {
  private static final long serialVersionUID = 1L;

  public UnsupportedLayerException(String layer, long offset, String reason) {
    super(layer, offset, reason);
  }
}
