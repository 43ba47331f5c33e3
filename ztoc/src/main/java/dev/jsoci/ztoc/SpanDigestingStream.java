package dev.jsoci.ztoc;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Passes a plain tar blob through while counting its bytes and hashing each fixed-size span, for
 * the span digests of an uncompressed layer. Not thread-safe.
 */
final class SpanDigestingStream extends FilterInputStream {
  private final long spanSize;
  private final List<String> digests = new ArrayList<>();
  private final MessageDigest digest;
  private long position;
  private long spanFill;

  SpanDigestingStream(InputStream in, long spanSize) {
    super(in);
    this.spanSize = spanSize;
    try {
      this.digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n == -1 ? -1 : one[0] & 0xFF;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    int n = in.read(buffer, offset, length);
    if (n <= 0) {
      return n;
    }
    int done = 0;
    while (done < n) {
      int part = (int) Math.min(n - done, spanSize - spanFill);
      digest.update(buffer, offset + done, part);
      done += part;
      spanFill += part;
      if (spanFill == spanSize) {
        digests.add(hex(digest.digest()));
        spanFill = 0;
      }
    }
    position += n;
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

  /** Returns the number of bytes passed through so far. */
  long position() {
    return position;
  }

  /** Returns the digest of every span, the last one possibly short; call after the end. */
  List<String> finish() {
    if (spanFill > 0) {
      digests.add(hex(digest.digest()));
      spanFill = 0;
    }
    return List.copyOf(digests);
  }

  private static String hex(byte[] hash) {
    return "sha256:" + HexFormat.of().formatHex(hash);
  }
}
