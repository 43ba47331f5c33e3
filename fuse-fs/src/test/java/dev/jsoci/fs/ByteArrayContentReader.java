package dev.jsoci.fs;

import java.nio.ByteBuffer;

/** A layer's uncompressed tar stream held in memory. */
public final class ByteArrayContentReader implements ContentReader {
  private final byte[] tar;

  public ByteArrayContentReader(byte[] tar) {
    this.tar = tar;
  }

  @Override
  public int read(long uncompressedOffset, ByteBuffer destination) {
    if (uncompressedOffset >= tar.length) {
      return -1;
    }
    int count = (int) Math.min(destination.remaining(), tar.length - uncompressedOffset);
    destination.put(tar, (int) uncompressedOffset, count);
    return count;
  }
}
