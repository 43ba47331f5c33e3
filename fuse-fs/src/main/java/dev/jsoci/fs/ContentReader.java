package dev.jsoci.fs;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The uncompressed tar stream of one layer, readable at any offset. The snapshotter passes the
 * fetcher's span manager; tests pass a byte array.
 *
 * <p>Implementations must be thread-safe: the filesystem calls {@link #read} from many threads at
 * once, and a call that blocks on its own bytes must not hold up calls for other bytes.
 */
@FunctionalInterface
public interface ContentReader {
  /**
   * Reads bytes of the layer's tar stream starting at {@code uncompressedOffset} into {@code
   * destination}, from its position up to at most its limit, and advances its position. Blocks
   * until at least one byte is available.
   *
   * <p>The filesystem runs each call with a deadline and interrupts the calling thread when the
   * deadline passes, so an implementation should stop waiting when interrupted.
   *
   * @return the number of bytes read, at least 1 while {@code destination} has room, or -1 when
   *     {@code uncompressedOffset} is at or past the end of the stream
   * @throws IOException if the bytes cannot be fetched, inflated or verified
   */
  int read(long uncompressedOffset, ByteBuffer destination) throws IOException;

  /**
   * Reads as {@link #read} does, but only when the bytes are at hand, so that the call neither
   * blocks nor does I/O; otherwise returns {@link #NOT_AT_HAND} and leaves {@code destination} as
   * it was. The filesystem calls it first, on the thread that serves the request, and calls {@link
   * #read} with a deadline only when it returns {@link #NOT_AT_HAND}. The default returns {@link
   * #NOT_AT_HAND} for every range.
   *
   * @throws IOException if the layer is closed
   */
  default int readIfAtHand(long uncompressedOffset, ByteBuffer destination) throws IOException {
    return NOT_AT_HAND;
  }

  /** The result of {@link #readIfAtHand} when the bytes are not at hand. */
  int NOT_AT_HAND = -2;
}
