package dev.jsoci.ztoc;

/** How a layer blob is compressed, with the value of the zTOC's {@code compression_algorithm}. */
public enum CompressionAlgorithm {
  GZIP((byte) 1, "gzip"),
  UNCOMPRESSED((byte) 2, "uncompressed");

  private final byte wireValue;
  private final String displayName;

  CompressionAlgorithm(byte wireValue, String displayName) {
    this.wireValue = wireValue;
    this.displayName = displayName;
  }

  /** Returns the enum value stored in the zTOC flatbuffer. */
  public byte wireValue() {
    return wireValue;
  }

  /** Returns the lower-case name readers show, {@code gzip} or {@code uncompressed}. */
  public String displayName() {
    return displayName;
  }
}
