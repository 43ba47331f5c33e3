package dev.jsoci.ztoc.gzip;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.zip.CRC32;
import org.jspecify.annotations.Nullable;

/**
 * The compressed side of a checkpointing pass: a buffer of blob bytes, mirrored in native memory
 * for zlib, with the count of bytes consumed and the SHA-256 of the current span.
 *
 * <p>Every consumed byte, whether zlib inflated it or the pass parsed it as a gzip header or
 * trailer, goes to the current span digest, if one is set. Not thread-safe.
 */
final class CompressedInput implements AutoCloseable {
  /** Reads continue until this many bytes are buffered, so zlib gets large inputs. */
  private static final int READ_TARGET = 64 * 1024;

  private final InputStream source;
  private final byte[] buffer;
  private final NativeBuffer mirror;
  private int start;
  private int end;
  private boolean endOfInput;
  private long consumed;
  private long recentBytes;
  private @Nullable MessageDigest digest;

  /** Wraps {@code source}, which the caller keeps ownership of. */
  CompressedInput(InputStream source, int bufferSize) {
    this.source = source;
    this.buffer = new byte[bufferSize];
    this.mirror = NativeBuffer.allocate(Zlib.get(), bufferSize);
  }

  /** Returns the number of blob bytes consumed so far: the compressed offset of the next byte. */
  long consumed() {
    return consumed;
  }

  /** Returns the number of buffered bytes not yet consumed. */
  int available() {
    return end - start;
  }

  /** Returns the buffered byte {@code index} positions after the next one, as 0 to 255. */
  int peek(int index) {
    return buffer[start + index] & 0xff;
  }

  /** Returns the native address of the next unconsumed byte. */
  long address() {
    return mirror.address() + start;
  }

  /** Tells whether the source has reported its end. Buffered bytes may remain. */
  boolean endOfInput() {
    return endOfInput;
  }

  /** Returns the last consumed byte, as 0 to 255. */
  int lastByte() {
    return (int) recentBytes & 0xff;
  }

  /** Returns the last 4 consumed bytes as an unsigned little-endian integer. */
  long lastIntLittleEndian() {
    return Integer.reverseBytes((int) recentBytes) & 0xffffffffL;
  }

  /** Replaces the digest that consumed bytes are fed to, and returns the previous one. */
  @Nullable MessageDigest swapDigest(@Nullable MessageDigest next) {
    MessageDigest previous = digest;
    digest = next;
    return previous;
  }

  /**
   * Reads until at least {@code minimum} bytes are buffered, or the source ends. Keeps reading up
   * to {@link #READ_TARGET} bytes, so sources that return small chunks still give large inputs.
   */
  void fill(int minimum) throws IOException {
    if (end - start >= minimum || endOfInput) {
      return;
    }

    // Move the unconsumed bytes to the front, in both copies.
    int remaining = end - start;
    System.arraycopy(buffer, start, buffer, 0, remaining);
    if (remaining > 0) {
      mirror.put(0, buffer, 0, remaining);
    }
    start = 0;
    end = remaining;

    int target = Math.max(minimum, READ_TARGET);
    int readStart = end;
    while (end < target) {
      int count = source.read(buffer, end, buffer.length - end);
      if (count < 0) {
        endOfInput = true;
        break;
      }
      end += count;
      if (count == 0 && end >= minimum) {
        break;
      }
    }
    if (end > readStart) {
      mirror.put(readStart, buffer, readStart, end - readStart);
    }
  }

  /** Consumes {@code count} buffered bytes, feeding them to the digest and to {@code crc}. */
  void consume(int count, @Nullable CRC32 crc) {
    if (count == 0) {
      return;
    }
    if (digest != null) {
      digest.update(buffer, start, count);
    }
    if (crc != null) {
      crc.update(buffer, start, count);
    }
    for (int i = Math.max(start, start + count - 8); i < start + count; i++) {
      recentBytes = (recentBytes << 8) | (buffer[i] & 0xff);
    }
    start += count;
    consumed += count;
  }

  /** Consumes the next byte and returns it as 0 to 255, or returns -1 when the source has ended. */
  int read(@Nullable CRC32 crc) throws IOException {
    fill(1);
    if (start == end) {
      return -1;
    }
    int value = buffer[start] & 0xff;
    consume(1, crc);
    return value;
  }

  /**
   * Consumes up to and including the next zero byte. Returns false if the source ends first, after
   * consuming everything.
   */
  boolean skipPastZero(@Nullable CRC32 crc) throws IOException {
    while (true) {
      fill(1);
      if (start == end) {
        return false;
      }
      for (int i = start; i < end; i++) {
        if (buffer[i] == 0) {
          consume(i + 1 - start, crc);
          return true;
        }
      }
      consume(end - start, crc);
    }
  }

  /** Consumes {@code count} bytes. Returns false if the source ends first. */
  boolean skip(long count, @Nullable CRC32 crc) throws IOException {
    long remaining = count;
    while (remaining > 0) {
      fill(1);
      if (start == end) {
        return false;
      }
      int chunk = (int) Math.min(remaining, end - start);
      consume(chunk, crc);
      remaining -= chunk;
    }
    return true;
  }

  /** Frees the native mirror. Does not close the source. */
  @Override
  public void close() {
    mirror.close();
  }
}
