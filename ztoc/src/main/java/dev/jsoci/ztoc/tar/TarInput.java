package dev.jsoci.ztoc.tar;

import java.io.IOException;
import java.io.InputStream;

/**
 * Reads a tar stream and counts the bytes consumed, never reading ahead of what it is asked for, so
 * that {@link #position()} is the offset in the stream of the next unread byte.
 */
final class TarInput {
  private static final int SKIP_BUFFER_SIZE = 64 * 1024;

  private final InputStream in;
  private long position;
  private byte[] skipBuffer = new byte[0];

  TarInput(InputStream in) {
    this.in = in;
  }

  long position() {
    return position;
  }

  /**
   * Reads until {@code length} bytes are read or the stream ends, and returns the number read.
   * Blocks while the stream blocks.
   */
  int read(byte[] buffer, int offset, int length) throws IOException {
    int total = 0;
    while (total < length) {
      int n = readSome(buffer, offset + total, length - total);
      if (n < 0) {
        break;
      }
      total += n;
      position += n;
    }
    return total;
  }

  /**
   * Reads and discards up to {@code count} bytes, and returns the number discarded, less than
   * {@code count} only when the stream ended.
   */
  long skip(long count) throws IOException {
    if (in instanceof ExactlySkippable) {
      return skipExactly(count);
    }
    // InputStream.skip may skip nothing on inflating streams and may skip past the end of a file,
    // so the bytes are read into a buffer instead.
    if (count > 0 && skipBuffer.length == 0) {
      skipBuffer = new byte[SKIP_BUFFER_SIZE];
    }
    long total = 0;
    while (total < count) {
      int n = readSome(skipBuffer, 0, (int) Math.min(skipBuffer.length, count - total));
      if (n < 0) {
        break;
      }
      total += n;
      position += n;
    }
    return total;
  }

  private long skipExactly(long count) throws IOException {
    long total = 0;
    while (total < count) {
      long n = in.skip(count - total);
      if (n <= 0) {
        break;
      }
      total += n;
      position += n;
    }
    return total;
  }

  /** Reads at least one byte unless the stream ended, even from a stream whose read returns 0. */
  private int readSome(byte[] buffer, int offset, int length) throws IOException {
    int n = in.read(buffer, offset, length);
    if (n != 0) {
      return n;
    }
    int b = in.read();
    if (b < 0) {
      return -1;
    }
    buffer[offset] = (byte) b;
    return 1;
  }
}
