package dev.jsoci.ztoc.gzip;

import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * A point in a gzip layer where inflation can resume: the compressed and uncompressed offsets of a
 * deflate block boundary (or of the end of a gzip member header) and the 32 KiB of uncompressed
 * data before it.
 *
 * <p>The fields are those of one record of the checkpoint blob: {@code in} is {@link
 * #compressedOffset()}, {@code out} is {@link #uncompressedOffset()}. When {@link #bits()} is
 * greater than zero the checkpoint lies inside byte {@code compressedOffset - 1}, whose top {@code
 * bits} bits have not been consumed yet. Immutable.
 */
public final class GzipCheckpoint {
  /** The window size of deflate (RFC 1951 section 2), and the size of every stored window. */
  public static final int WINDOW_SIZE = 32768;

  private final long compressedOffset;
  private final long uncompressedOffset;
  private final int bits;
  private final byte[] window;

  private GzipCheckpoint(long compressedOffset, long uncompressedOffset, int bits, byte[] window) {
    this.compressedOffset = compressedOffset;
    this.uncompressedOffset = uncompressedOffset;
    this.bits = bits;
    this.window = window;
  }

  /**
   * Returns a checkpoint holding a copy of {@code window}.
   *
   * @param compressedOffset bytes of the blob the decoder has consumed at the checkpoint ({@code
   *     in}); at least 1 when {@code bits > 0}
   * @param uncompressedOffset bytes of uncompressed output before the checkpoint ({@code out})
   * @param bits number of not yet consumed high bits of byte {@code compressedOffset - 1}, 0 to 7
   * @param window the 32768 bytes of output before the checkpoint, oldest first, left-padded with
   *     zeros when fewer were produced
   * @throws IllegalArgumentException if a value is out of range or the window is not 32768 bytes
   */
  public static GzipCheckpoint of(
      long compressedOffset, long uncompressedOffset, int bits, byte[] window) {
    if (compressedOffset < 0) {
      throw new IllegalArgumentException(
          "compressedOffset is " + compressedOffset + ", expected >= 0");
    }
    if (uncompressedOffset < 0) {
      throw new IllegalArgumentException(
          "uncompressedOffset is " + uncompressedOffset + ", expected >= 0");
    }
    if (bits < 0 || bits > 7) {
      throw new IllegalArgumentException("bits is " + bits + ", expected 0 to 7");
    }
    if (bits > 0 && compressedOffset == 0) {
      throw new IllegalArgumentException("bits is " + bits + " at compressedOffset 0");
    }
    if (window.length != WINDOW_SIZE) {
      throw new IllegalArgumentException(
          "window is " + window.length + " bytes, expected " + WINDOW_SIZE);
    }
    return new GzipCheckpoint(compressedOffset, uncompressedOffset, bits, window.clone());
  }

  /** Returns a checkpoint that owns {@code window}; the caller must not change the array later. */
  static GzipCheckpoint ofOwnedWindow(
      long compressedOffset, long uncompressedOffset, int bits, byte[] window) {
    return new GzipCheckpoint(compressedOffset, uncompressedOffset, bits, window);
  }

  /** Returns {@code in}: the blob bytes consumed at the checkpoint, counted from the blob start. */
  public long compressedOffset() {
    return compressedOffset;
  }

  /** Returns {@code out}: the offset of the checkpoint in the uncompressed stream. */
  public long uncompressedOffset() {
    return uncompressedOffset;
  }

  /** Returns the number of not yet consumed high bits of byte {@code compressedOffset - 1}. */
  public int bits() {
    return bits;
  }

  /**
   * Returns the compressed offset of the first byte inflation from this checkpoint reads: {@code
   * compressedOffset - 1} when {@code bits > 0}, else {@code compressedOffset}.
   */
  public long compressedStart() {
    return bits > 0 ? compressedOffset - 1 : compressedOffset;
  }

  /** Returns a copy of the 32768-byte window. */
  public byte[] window() {
    return window.clone();
  }

  byte[] windowWithoutCopy() {
    return window;
  }

  @Override
  public boolean equals(@Nullable Object other) {
    if (!(other instanceof GzipCheckpoint)) {
      return false;
    }
    GzipCheckpoint that = (GzipCheckpoint) other;
    return compressedOffset == that.compressedOffset
        && uncompressedOffset == that.uncompressedOffset
        && bits == that.bits
        && Arrays.equals(window, that.window);
  }

  @Override
  public int hashCode() {
    int hash = Long.hashCode(compressedOffset);
    hash = 31 * hash + Long.hashCode(uncompressedOffset);
    hash = 31 * hash + bits;
    return 31 * hash + Arrays.hashCode(window);
  }

  /** Returns {@code (in, out, bits)}, the form the checkpoint tables of SOCI tooling use. */
  @Override
  public String toString() {
    return "(" + compressedOffset + "," + uncompressedOffset + "," + bits + ")";
  }
}
