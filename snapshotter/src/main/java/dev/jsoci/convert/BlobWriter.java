package dev.jsoci.convert;

import dev.jsoci.oci.Digest;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A blob being written to an {@link ImageStore}. Bytes go through {@link #write}; {@link #commit}
 * checks their digest and publishes the blob, and {@link #close()} without a commit discards them.
 *
 * <p>Warning: always close a writer, also after a commit, or its temporary file or upload is left
 * behind. Not thread-safe.
 */
public abstract class BlobWriter extends OutputStream {
  private final Digest.Hasher hasher = Digest.sha256Hasher();
  private long sizeBytes;
  private boolean committed;
  private boolean stored;

  @Override
  public final void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public final void write(byte[] buffer, int offset, int length) throws IOException {
    if (committed) {
      throw new IllegalStateException("blob writer already committed");
    }
    hasher.update(buffer, offset, length);
    sizeBytes += length;
    writeContent(buffer, offset, length);
  }

  /** Returns the number of bytes written so far. */
  public final long sizeBytes() {
    return sizeBytes;
  }

  /**
   * Checks that the bytes written hash to {@code expected}, then publishes the blob.
   *
   * @return whether the bytes were sent or stored; false when the store already had the blob
   * @throws BlobDigestMismatchException when the bytes hash to another digest; the blob is then not
   *     published
   */
  public final boolean commit(Digest expected) throws IOException {
    Digest actual = digest();
    if (!actual.equals(expected)) {
      throw new BlobDigestMismatchException(
          "blob written to " + storeName(), expected, actual, sizeBytes);
    }
    committed = true;
    stored = publish(actual, sizeBytes);
    return stored;
  }

  /**
   * Publishes the blob under the digest of the bytes written, whatever it is. {@link #stored()}
   * then returns whether the bytes were sent or stored.
   *
   * @return the digest
   */
  public final Digest commit() throws IOException {
    Digest actual = digest();
    committed = true;
    stored = publish(actual, sizeBytes);
    return actual;
  }

  /**
   * Returns whether the committed bytes were sent or stored; false before a commit and when the
   * store already had the blob.
   */
  public final boolean stored() {
    return stored;
  }

  private Digest digest() {
    if (committed) {
      throw new IllegalStateException("blob writer already committed");
    }
    return hasher.digest();
  }

  /** Takes the next bytes of the blob. */
  protected abstract void writeContent(byte[] buffer, int offset, int length) throws IOException;

  /**
   * Makes the blob of {@code sizeBytes} bytes available under {@code digest}, which has been
   * checked.
   *
   * @return false when the store already had the blob and nothing was sent or stored
   */
  protected abstract boolean publish(Digest digest, long sizeBytes) throws IOException;

  /** Returns the name of the store, for messages. */
  protected abstract String storeName();
}
