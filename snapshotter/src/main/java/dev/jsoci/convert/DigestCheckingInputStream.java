package dev.jsoci.convert;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Passes a blob through and, when its end is reached, checks the bytes read against the
 * descriptor's size and digest. A blob longer than its descriptor fails as soon as the extra byte
 * is read.
 */
final class DigestCheckingInputStream extends FilterInputStream {
  private final Descriptor blob;
  private final String blobName;
  private final Digest.Hasher hasher;
  private long position;
  private boolean checked;

  /**
   * @param blobName the blob's name in messages, such as {@code blob sha256:... of oci:dir}
   */
  DigestCheckingInputStream(InputStream in, Descriptor blob, String blobName) {
    super(in);
    this.blob = blob;
    this.blobName = blobName;
    this.hasher = blob.digest().hasher();
  }

  @Override
  public int read() throws IOException {
    byte[] single = new byte[1];
    int n = read(single, 0, 1);
    return n < 0 ? -1 : single[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    int n = in.read(buffer, offset, length);
    if (n < 0) {
      checkAtEnd();
      return -1;
    }
    position += n;
    if (position > blob.size()) {
      throw new IOException(
          blobName + ": longer than the " + blob.size() + " bytes its descriptor gives");
    }
    hasher.update(buffer, offset, n);
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    byte[] buffer = new byte[(int) Math.min(n, 64 * 1024)];
    int read = read(buffer, 0, buffer.length);
    return Math.max(read, 0);
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  @Override
  public synchronized void mark(int readLimit) {}

  @Override
  public synchronized void reset() throws IOException {
    throw new IOException("mark/reset not supported");
  }

  private void checkAtEnd() throws IOException {
    if (checked) {
      return;
    }
    checked = true;
    if (position != blob.size()) {
      throw new EOFException(
          blobName + ": ends after " + position + " bytes, its descriptor gives " + blob.size());
    }
    Digest actual = hasher.digest();
    if (!actual.equals(blob.digest())) {
      throw new BlobDigestMismatchException(blobName, blob.digest(), actual, position);
    }
  }
}
