package dev.jsoci.convert;

import dev.jsoci.oci.Digest;
import java.io.IOException;

/** Blob content whose digest is not the one its descriptor or its writer expected. */
public final class BlobDigestMismatchException extends IOException {
  private static final long serialVersionUID = 1L;

  private final Digest expected;
  private final Digest actual;

  /**
   * Creates the exception with the message {@code <content>: digest mismatch, expected <expected>,
   * found <actual> over <size> bytes}.
   *
   * @param content the content, for example {@code blob sha256:... of oci:dir}
   */
  public BlobDigestMismatchException(
      String content, Digest expected, Digest actual, long sizeBytes) {
    super(
        content
            + ": digest mismatch, expected "
            + expected
            + ", found "
            + actual
            + " over "
            + sizeBytes
            + " bytes");
    this.expected = expected;
    this.actual = actual;
  }

  public Digest expected() {
    return expected;
  }

  public Digest actual() {
    return actual;
  }
}
