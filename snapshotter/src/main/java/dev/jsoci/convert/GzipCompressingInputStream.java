package dev.jsoci.convert;

import java.io.IOException;
import java.io.InputStream;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Compresses the bytes of another stream to one gzip member (RFC 1952) as they are read, so that
 * the compressed form can be consumed by a reader that pulls, such as the zTOC builder.
 *
 * <p>The header carries no file name and a modification time of 0, and the deflate data comes from
 * {@link Deflater} at {@link Deflater#DEFAULT_COMPRESSION}, so equal input gives equal output as
 * long as the zlib behind {@link Deflater} is the same version.
 *
 * <p>Warning: {@link #close()} frees the native deflater and closes the input; close the stream
 * also when it is abandoned early. Not thread-safe.
 */
final class GzipCompressingInputStream extends InputStream {
  /**
   * The 10-byte member header: magic {@code 1f 8b}, method 8 (deflate), no flags, modification time
   * 0, no extra flags, operating system 255 (unknown).
   */
  private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};

  private static final int INPUT_BUFFER_BYTES = 64 * 1024;

  private final InputStream uncompressed;
  private final Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
  private final CRC32 crc = new CRC32();
  private final byte[] inputBuffer = new byte[INPUT_BUFFER_BYTES];
  private long uncompressedBytes;
  private boolean inputEnded;

  /** Header or trailer bytes waiting to be returned. */
  private byte[] pending = HEADER.clone();

  private int pendingPosition;
  private boolean trailerQueued;

  GzipCompressingInputStream(InputStream uncompressed) {
    this.uncompressed = uncompressed;
  }

  /** Returns the number of uncompressed bytes consumed so far. */
  long uncompressedBytes() {
    return uncompressedBytes;
  }

  @Override
  public int read() throws IOException {
    byte[] single = new byte[1];
    int n;
    do {
      n = read(single, 0, 1);
    } while (n == 0);
    return n < 0 ? -1 : single[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    while (true) {
      // Header or trailer bytes first.
      if (pendingPosition < pending.length) {
        int n = Math.min(length, pending.length - pendingPosition);
        System.arraycopy(pending, pendingPosition, buffer, offset, n);
        pendingPosition += n;
        return n;
      }
      if (trailerQueued) {
        return -1;
      }

      // Deflate output, feeding input whenever the deflater needs more.
      if (deflater.needsInput() && !inputEnded) {
        int n = uncompressed.read(inputBuffer);
        if (n < 0) {
          inputEnded = true;
          deflater.finish();
        } else if (n > 0) {
          crc.update(inputBuffer, 0, n);
          uncompressedBytes += n;
          deflater.setInput(inputBuffer, 0, n);
        }
      }
      int produced = deflater.deflate(buffer, offset, length);
      if (produced > 0) {
        return produced;
      }
      if (deflater.finished()) {
        pending = trailer();
        pendingPosition = 0;
        trailerQueued = true;
      }
    }
  }

  /** Returns the 8-byte trailer: CRC-32 and the input length modulo 2^32, both little-endian. */
  private byte[] trailer() {
    byte[] trailer = new byte[8];
    long crcValue = crc.getValue();
    for (int i = 0; i < 4; i++) {
      trailer[i] = (byte) (crcValue >>> (8 * i));
      trailer[4 + i] = (byte) (uncompressedBytes >>> (8 * i));
    }
    return trailer;
  }

  @Override
  public void close() throws IOException {
    deflater.end();
    uncompressed.close();
  }
}
