package dev.jsoci.ztoc.gzip;

import dev.jsoci.ztoc.ZtocFormatException;
import java.util.HexFormat;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.jspecify.annotations.Nullable;

/**
 * Inflates part of a gzip layer from a checkpoint with {@link Inflater}, one call per instance.
 *
 * <h2>Starting inside a byte</h2>
 *
 * <p>A checkpoint with {@code bits > 0} starts with the top {@code bits} bits of the first byte
 * (deflate packs bits LSB first, RFC 1951 section 3.1.1). zlib's {@code inflatePrime} inserts such
 * bits, but {@link Inflater} has no equivalent, and shifting the whole input does not work because
 * stored blocks realign to byte boundaries. Instead, the decoder first reads a preamble of empty,
 * non-final deflate blocks whose bit length {@code L} satisfies {@code (L + bits) % 8 == 0}; the
 * top {@code bits} bits of the preamble's last byte are the top {@code bits} bits of the first data
 * byte, and the data continues from the second byte. Empty blocks write no output, so the preset
 * window is untouched. The blocks (RFC 1951 section 3.2.3 onwards):
 *
 * <ul>
 *   <li>F, 10 bits: BFINAL 0, BTYPE 01 (fixed Huffman), end-of-block code 0000000.
 *   <li>D, 93 bits: BFINAL 0, BTYPE 10 (dynamic), HLIT 0, HDIST 0, HCLEN 14; code length code
 *       lengths all 0 except symbol 0 (1 bit), 18 and 1 (2 bits each); then 18 with 127 extra (138
 *       zeros), 18 with 107 extra (118 zeros), 1 (the length of symbol 256), 0 (the single distance
 *       code); then the 1-bit end-of-block code. zlib accepts the incomplete literal/length code.
 * </ul>
 *
 * <p>bits 1 uses D F (103 bits), 2 uses F F F (30), 3 uses D (93), 4 uses F F (20), 5 uses D F F F
 * (123), 6 uses F (10), 7 uses D F F (113).
 *
 * <h2>Member boundaries</h2>
 *
 * <p>When a member's final block ends, the next 8 bytes are its trailer (CRC-32 and ISIZE, RFC 1952
 * section 2.3), then the next member's header follows, and a fresh raw decoder without a dictionary
 * continues. The trailer of the member the checkpoint lies in is not checked, because only part of
 * that member's output is known. Later members that end inside the range have their CRC-32 and
 * ISIZE checked.
 */
final class CheckpointInflater {
  private static final int TRAILER_SIZE = 8;
  private static final int DISCARD_BUFFER_SIZE = 64 * 1024;

  /** Preamble bytes by {@code bits}, with the top {@code bits} bits of the last byte zero. */
  private static final byte[][] PREAMBLES = {
    new byte[0],
    HexFormat.of().parseHex("04c0010500000000a0ffaf4300"),
    HexFormat.of().parseHex("02082000"),
    HexFormat.of().parseHex("04c0010500000000a0ffaf03"),
    HexFormat.of().parseHex("020800"),
    HexFormat.of().parseHex("04c0010500000000a0ffaf4300010400"),
    HexFormat.of().parseHex("0200"),
    HexFormat.of().parseHex("04c0010500000000a0ffaf43000100"),
  };

  /**
   * Returns a copy of the preamble for a checkpoint with {@code bits} unused bits, 1 to 7; the top
   * {@code bits} bits of its last byte are zero, for the caller to fill with the data's first bits.
   */
  static byte[] preamble(int bits) {
    return PREAMBLES[bits].clone();
  }

  private final byte[] compressed;
  private final long compressedBase;
  private final int spanId;

  /**
   * @param compressed layer bytes starting at the checkpoint's compressed start
   * @param compressedBase the layer offset of {@code compressed[0]}, for messages
   * @param spanId the span the checkpoint starts, for messages
   */
  CheckpointInflater(byte[] compressed, long compressedBase, int spanId) {
    this.compressed = compressed;
    this.compressedBase = compressedBase;
    this.spanId = spanId;
  }

  /**
   * Inflates from the checkpoint, discards {@code skip} bytes and writes the next {@code length} to
   * the start of {@code result}.
   *
   * @param bits the checkpoint's unused bits of {@code compressed[0]}, 0 to 7
   * @param window an array with the checkpoint's 32 KiB window at {@code windowOffset}
   * @param uncompressedOffset the offset of the first returned byte, for messages
   * @param result an array of at least {@code length} bytes
   * @throws ZtocFormatException if the data is corrupt or ends before {@code length} bytes
   */
  void inflate(
      int bits,
      byte[] window,
      int windowOffset,
      long skip,
      long uncompressedOffset,
      byte[] result,
      int length)
      throws ZtocFormatException {
    byte[] discard = new byte[(int) Math.min(DISCARD_BUFFER_SIZE, Math.max(skip, 1))];
    Inflater inflater = new Inflater(true);
    boolean dataGiven = false;
    try {
      // Preset the window, then feed the preamble that consumes the first byte's low bits.
      inflater.setDictionary(window, windowOffset, GzipCheckpoint.WINDOW_SIZE);
      int dataStart = 0;
      if (bits > 0) {
        byte[] preamble = preamble(bits);
        preamble[preamble.length - 1] |= (byte) (compressed[0] & (0xff << (8 - bits)));
        inflater.setInput(preamble);
        dataStart = 1;
      }

      // Inflate, discarding until the range starts; members after the first are CRC-checked.
      long remainingSkip = skip;
      int filled = 0;
      @Nullable CRC32 memberCrc = null;
      long memberSize = 0;
      long lastProgress = -1;
      while (filled < length) {
        if (inflater.needsInput() && !inflater.finished()) {
          if (dataGiven) {
            throw shortData(uncompressedOffset, length, filled, remainingSkip);
          }
          inflater.setInput(compressed, dataStart, compressed.length - dataStart);
          dataGiven = true;
          continue;
        }

        int count;
        if (remainingSkip > 0) {
          int chunk = (int) Math.min(discard.length, remainingSkip);
          count = inflater.inflate(discard, 0, chunk);
          if (memberCrc != null) {
            memberCrc.update(discard, 0, count);
          }
          remainingSkip -= count;
        } else {
          count = inflater.inflate(result, filled, length - filled);
          if (memberCrc != null) {
            memberCrc.update(result, filled, count);
          }
          filled += count;
        }
        memberSize += count;

        if (inflater.finished()) {
          if (!dataGiven) {
            throw corrupt(0, "a final block inside the first byte");
          }
          // Check the finished member's trailer, then start the next member.
          int trailerStart = compressed.length - inflater.getRemaining();
          checkTrailer(trailerStart, memberCrc, memberSize, uncompressedOffset, length, filled);
          if (filled == length) {
            break;
          }
          int headerStart = trailerStart + TRAILER_SIZE;
          if (headerStart == compressed.length) {
            throw shortData(uncompressedOffset, length, filled, remainingSkip);
          }
          int headerLength;
          try {
            headerLength = GzipHeader.length(compressed, headerStart, compressed.length);
          } catch (GzipHeader.InvalidHeaderException e) {
            throw corrupt(e.index(), "invalid gzip member header: " + e.getMessage());
          }
          inflater.end();
          inflater = new Inflater(true);
          int next = headerStart + headerLength;
          inflater.setInput(compressed, next, compressed.length - next);
          memberCrc = memberCrc == null ? new CRC32() : memberCrc;
          memberCrc.reset();
          memberSize = 0;
          continue;
        }

        // Inflater returns 0 while it consumes input without output, as in empty blocks. Neither
        // input nor output moving would be a bug, because corrupt data raises an error instead.
        long progress = inflater.getBytesRead() + inflater.getBytesWritten();
        if (count == 0 && progress == lastProgress && !inflater.needsInput()) {
          throw new IllegalStateException("Inflater made no progress in span " + spanId);
        }
        lastProgress = progress;
      }
    } catch (DataFormatException e) {
      long position = dataGiven ? compressed.length - inflater.getRemaining() : 0;
      throw new ZtocFormatException(
          String.format(
              "span %d: corrupt deflate data before compressed offset %d: %s",
              spanId, compressedBase + position, e.getMessage()),
          e);
    } finally {
      inflater.end();
    }
  }

  /**
   * Checks a trailer that ends a member. The trailer of the first member is skipped, unchecked,
   * when {@code memberCrc} is null.
   */
  private void checkTrailer(
      int trailerStart,
      @Nullable CRC32 memberCrc,
      long memberSize,
      long uncompressedOffset,
      int length,
      int filled)
      throws ZtocFormatException {
    if (compressed.length - trailerStart < TRAILER_SIZE) {
      if (filled == length) {
        return;
      }
      throw corrupt(compressed.length, "compressed data ends inside a gzip trailer");
    }
    if (memberCrc == null) {
      return;
    }
    long storedCrc = readUnsignedIntLittleEndian(trailerStart);
    long storedSize = readUnsignedIntLittleEndian(trailerStart + 4);
    if (storedCrc != memberCrc.getValue()) {
      throw corrupt(
          trailerStart,
          String.format(
              "crc32 mismatch in gzip trailer: stored %08x, computed %08x",
              storedCrc, memberCrc.getValue()));
    }
    if (storedSize != (memberSize & 0xffffffffL)) {
      throw corrupt(
          trailerStart + 4,
          "isize mismatch in gzip trailer: stored " + storedSize + ", expected " + memberSize);
    }
  }

  private long readUnsignedIntLittleEndian(int index) {
    return (compressed[index] & 0xffL)
        | (compressed[index + 1] & 0xffL) << 8
        | (compressed[index + 2] & 0xffL) << 16
        | (compressed[index + 3] & 0xffL) << 24;
  }

  private ZtocFormatException corrupt(int index, String reason) {
    return new ZtocFormatException(
        "span " + spanId + ": " + reason + " at compressed offset " + (compressedBase + index));
  }

  private ZtocFormatException shortData(
      long uncompressedOffset, int length, int filled, long remainingSkip) {
    long reached = uncompressedOffset - remainingSkip + filled;
    return new ZtocFormatException(
        String.format(
            "span %d: compressed data ends at uncompressed offset %d, inside the requested range"
                + " [%d, %d)",
            spanId, reached, uncompressedOffset, uncompressedOffset + length));
  }
}
