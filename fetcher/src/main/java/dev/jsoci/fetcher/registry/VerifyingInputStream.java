package dev.jsoci.fetcher.registry;

import dev.jsoci.oci.Digest;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import org.jspecify.annotations.Nullable;

/**
 * A stream that passes a blob through and checks its size and digest: reading past the expected
 * size, or reaching the end early or with another digest, throws instead of returning the end.
 *
 * <p>Every read after a failure throws the same exception again. {@link #skip} reads the skipped
 * bytes, so they are hashed too. Not thread-safe.
 */
final class VerifyingInputStream extends FilterInputStream {
  private final Digest expected;
  private final long expectedSize;
  private final String what;
  private final Digest.Hasher hasher;
  private long position;
  private boolean verified;
  private @Nullable IOException failure;

  /**
   * @param what the content for messages, for example {@code blob sha256:... of host/repo}
   */
  VerifyingInputStream(InputStream in, Digest expected, long expectedSize, String what) {
    super(in);
    this.expected = expected;
    this.expectedSize = expectedSize;
    this.what = what;
    this.hasher = expected.hasher();
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int read = read(one, 0, 1);
    return read < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    if (failure != null) {
      throw failure;
    }
    if (length == 0) {
      return 0;
    }
    int read;
    try {
      read = in.read(buffer, offset, length);
    } catch (IOException e) {
      failure = e;
      throw e;
    }
    if (read < 0) {
      verifyAtEnd();
      return -1;
    }
    hasher.update(buffer, offset, read);
    position += read;
    if (position > expectedSize) {
      failure =
          new RegistryException(
              what + ": received more than the expected " + expectedSize + " bytes");
      throw failure;
    }
    return read;
  }

  @Override
  public long skip(long count) throws IOException {
    byte[] buffer = new byte[8192];
    long skipped = 0;
    while (skipped < count) {
      int read = read(buffer, 0, (int) Math.min(buffer.length, count - skipped));
      if (read < 0) {
        break;
      }
      skipped += read;
    }
    return skipped;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  @Override
  public synchronized void mark(int readLimit) {}

  @Override
  public synchronized void reset() throws IOException {
    throw new IOException("mark and reset are not supported");
  }

  private void verifyAtEnd() throws IOException {
    if (verified) {
      return;
    }
    if (position != expectedSize) {
      failure =
          new RegistryException(
              what + ": stream ended after " + position + " of " + expectedSize + " bytes");
      throw failure;
    }
    Digest actual = hasher.digest();
    if (!actual.equals(expected)) {
      failure = new DigestMismatchException(what, expected, actual);
      throw failure;
    }
    verified = true;
  }
}
