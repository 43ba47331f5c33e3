package dev.jsoci.fetcher.span;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Random access to the compressed bytes of one layer blob: a registry, a local file or a byte
 * array.
 *
 * <p>Implementations must be safe for use by many threads at once. A span manager calls {@link
 * #read} once per run of adjacent spans, so a source that talks to a server should turn each call
 * into one ranged request.
 */
@FunctionalInterface
public interface BlobRangeSource {
  /**
   * Reads exactly {@code length} bytes of the blob from {@code offset}. Blocks until they arrive.
   *
   * @throws IOException if the bytes cannot be read, or the blob ends before {@code offset +
   *     length}
   */
  byte[] read(long offset, int length) throws IOException;

  /** Returns a source that serves {@code blob}, which it copies. */
  static BlobRangeSource of(byte[] blob) {
    byte[] copy = blob.clone();
    return (offset, length) -> {
      if (offset < 0 || length < 0 || offset + length > copy.length) {
        throw new EOFException(
            "range ["
                + offset
                + ", "
                + (offset + length)
                + ") is outside the blob of "
                + copy.length
                + " bytes");
      }
      return Arrays.copyOfRange(copy, (int) offset, (int) offset + length);
    };
  }

  /** Returns a source that opens {@code file} for each read, so no file handle stays open. */
  static BlobRangeSource of(Path file) {
    return (offset, length) -> {
      ByteBuffer buffer = ByteBuffer.allocate(length);
      try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
        while (buffer.hasRemaining()) {
          int read = channel.read(buffer, offset + buffer.position());
          if (read < 0) {
            throw new EOFException(
                file
                    + " ends at "
                    + (offset + buffer.position())
                    + ", before the end of range ["
                    + offset
                    + ", "
                    + (offset + length)
                    + ")");
          }
        }
      }
      return buffer.array();
    };
  }
}
