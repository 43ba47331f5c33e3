package dev.jsoci.convert;

import dev.jsoci.oci.Digest;
import java.io.IOException;
import java.io.OutputStream;
import org.jspecify.annotations.Nullable;

/**
 * A blob being written to an {@link ImageStore}. Bytes go through {@link #write}; {@link #commit}
 * checks their digest and publishes the blob, and {@link #close()} without a commit discards them.
 *
 * <p>Warning: always close a writer, also after a commit, or its temporary file or upload is left
 * behind. Not thread-safe.
 */
public abstract class BlobWriter extends OutputStream {
  private Digest.@Nullable Hasher hasher = Digest.sha256Hasher();
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
    if (hasher != null) {
      hasher.update(buffer, offset, length);
    }
    sizeBytes += length;
    writeContent(buffer, offset, length);
  }

  /**
   * Stops hashing the bytes written, for a caller that checks their digest itself, such as one that
   * writes every byte of an {@link ImageStore#openBlob} stream and reads that stream to its end
   * before the commit. {@link #commit(Digest)} then publishes the blob under the given digest
   * without comparing, and {@link #commit()} throws {@link IllegalStateException}.
   *
   * @throws IllegalStateException if bytes were written already
   */
  public final void skipDigestCheck() {
    if (sizeBytes > 0) {
      throw new IllegalStateException("skipDigestCheck after " + sizeBytes + " bytes were written");
    }
    hasher = null;
  }

  /** Returns the number of bytes written so far. */
  public final long sizeBytes() {
    return sizeBytes;
  }

  /**
   * Checks that the bytes written hash to {@code expected}, unless {@link #skipDigestCheck} was
   * called, then publishes the blob.
   *
   * @return whether the bytes were sent or stored; false when the store already had the blob
   * @throws BlobDigestMismatchException when the bytes hash to another digest; the blob is then not
   *     published
   */
  public final boolean commit(Digest expected) throws IOException {
    if (hasher == null) {
      checkNotCommitted();
      committed = true;
      stored = publish(expected, sizeBytes);
      return stored;
    }
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
    checkNotCommitted();
    if (hasher == null) {
      throw new IllegalStateException("the digest check was skipped: commit with the digest");
    }
    return hasher.digest();
  }

  private void checkNotCommitted() {
    if (committed) {
      throw new IllegalStateException("blob writer already committed");
    }
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
