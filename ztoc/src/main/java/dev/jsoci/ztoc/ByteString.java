package dev.jsoci.ztoc;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An immutable sequence of bytes, ordered by unsigned byte-wise comparison.
 *
 * <p>Tar names, link targets, user and group names and PAX records are bytes, not text: they may
 * be invalid UTF-8 and xattr values are often binary. This type carries them through the TOC
 * without a round trip through {@link String}, so the zTOC keeps them exactly.
 */
public final class ByteString implements Comparable<ByteString> {
  public static final ByteString EMPTY = new ByteString(new byte[0]);

  private final byte[] bytes;
  private int hash;

  private ByteString(byte[] bytes) {
    this.bytes = bytes;
  }

  /** Returns a byte string holding a copy of {@code bytes}. */
  public static ByteString of(byte[] bytes) {
    return bytes.length == 0 ? EMPTY : new ByteString(bytes.clone());
  }

  /** Returns a byte string holding a copy of {@code length} bytes of {@code bytes} from {@code offset}. */
  public static ByteString copyOf(byte[] bytes, int offset, int length) {
    return length == 0 ? EMPTY : new ByteString(Arrays.copyOfRange(bytes, offset, offset + length));
  }

  /** Returns the UTF-8 encoding of {@code text}. */
  public static ByteString utf8(String text) {
    return text.isEmpty() ? EMPTY : new ByteString(text.getBytes(StandardCharsets.UTF_8));
  }

  public int size() {
    return bytes.length;
  }

  public boolean isEmpty() {
    return bytes.length == 0;
  }

  public byte byteAt(int index) {
    return bytes[index];
  }

  public byte[] toByteArray() {
    return bytes.clone();
  }

  /** Returns a read-only view of the bytes; the buffer's position is 0 and its limit the size. */
  public ByteBuffer asReadOnlyBuffer() {
    return ByteBuffer.wrap(bytes).asReadOnlyBuffer();
  }

  /** Decodes the bytes as UTF-8, replacing malformed sequences with U+FFFD. For display only. */
  public String utf8() {
    return new String(bytes, StandardCharsets.UTF_8);
  }

  public boolean startsWith(ByteString prefix) {
    return prefix.bytes.length <= bytes.length
        && Arrays.equals(bytes, 0, prefix.bytes.length, prefix.bytes, 0, prefix.bytes.length);
  }

  public boolean endsWith(ByteString suffix) {
    int start = bytes.length - suffix.bytes.length;
    return start >= 0
        && Arrays.equals(bytes, start, bytes.length, suffix.bytes, 0, suffix.bytes.length);
  }

  /** Returns the bytes from {@code beginIndex} (inclusive) to {@code endIndex} (exclusive). */
  public ByteString substring(int beginIndex, int endIndex) {
    if (beginIndex == 0 && endIndex == bytes.length) {
      return this;
    }
    return copyOf(bytes, beginIndex, endIndex - beginIndex);
  }

  @Override
  public int compareTo(ByteString other) {
    return Arrays.compareUnsigned(bytes, other.bytes);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof ByteString && Arrays.equals(bytes, ((ByteString) other).bytes);
  }

  @Override
  public int hashCode() {
    int h = hash;
    if (h == 0 && bytes.length > 0) {
      h = Arrays.hashCode(bytes);
      hash = h;
    }
    return h;
  }

  /** Returns {@link #utf8()}. */
  @Override
  public String toString() {
    return utf8();
  }
}
