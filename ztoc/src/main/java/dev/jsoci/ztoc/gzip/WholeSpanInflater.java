package dev.jsoci.ztoc.gzip;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import jnr.ffi.Pointer;
import org.jspecify.annotations.Nullable;

/**
 * Inflates one whole gzip span with libdeflate, which inflates 4 MiB spans about twice as fast as
 * zlib (see docs/benchmarks.md) but takes only complete deflate streams, by framing the span as
 * one.
 *
 * <h2>Framing</h2>
 *
 * <p>The input handed to libdeflate, in deflate's terms (RFC 1951 section 3.2.3 onwards):
 *
 * <ol>
 *   <li>a non-final stored block with the checkpoint's 32 KiB window: 5 bytes (BFINAL 0, BTYPE 00
 *       and padding; LEN 32768 and NLEN, little-endian), then the window, which thereby becomes the
 *       history that the span's back-references reach into;
 *   <li>for a checkpoint inside a byte, the empty-block preamble of {@link CheckpointInflater},
 *       whose last byte carries the span's first bits, then the span's bytes after its first;
 *       otherwise the span's bytes from its first;
 *   <li>the span's bits up to the next checkpoint, which lies at a block boundary like every
 *       checkpoint, so the span ends with a complete block;
 *   <li>an empty final block with fixed codes in place of the bits after that boundary: 10 bits,
 *       BFINAL 1, BTYPE 01 and the end-of-block code 0000000.
 * </ol>
 *
 * <p>The output is the window followed by the span. Whatever else happens, a gzip member that ends
 * inside the span (its final block stops libdeflate early), corrupt data or a span shorter than the
 * zTOC records, {@link #inflate} returns false and leaves the work to zlib, which crosses member
 * boundaries and names the error.
 *
 * <p>Thread-safe. Native buffers and decompressors are kept for the next call, at most {@link
 * #IDLE_LIMIT} of them.
 */
final class WholeSpanInflater {
  private static final int WINDOW_SIZE = GzipCheckpoint.WINDOW_SIZE;
  private static final int STORED_HEADER_SIZE = 5;

  /** Spans longer than this are left to zlib rather than given native buffers of their size. */
  private static final int MAX_SPAN_LENGTH = 64 << 20;

  /** BFINAL 1 and BTYPE 01, LSB first; the seven zero bits of end-of-block follow. */
  private static final int FINAL_EMPTY_FIXED_BLOCK = 0b011;

  /** The bytes that hold the span's last bits and the 10-bit block after them: up to 17 bits. */
  private static final int TAIL_SIZE = 3;

  private static final int IDLE_LIMIT = 2;
  private static final ConcurrentLinkedQueue<Scratch> idle = new ConcurrentLinkedQueue<>();
  private static final AtomicInteger idleCount = new AtomicInteger();

  private WholeSpanInflater() {}

  /** Tells whether libdeflate is installed, so that {@link #inflate} can do any work. */
  static boolean isAvailable() {
    return Libdeflate.get() != null;
  }

  /**
   * Inflates the span that starts at {@code compressed[0]} and writes its bytes from {@code skip}
   * on, {@code length} of them, to the start of {@code destination}. Returns false, leaving {@code
   * destination} undefined, when libdeflate is missing or does not give exactly {@code spanLength}
   * bytes.
   *
   * @param bits the checkpoint's unused bits of {@code compressed[0]}, 0 to 7
   * @param window an array with the checkpoint's window at {@code windowOffset}
   * @param endBit the bit of {@code compressed} where the next checkpoint starts, counted from bit
   *     0 of {@code compressed[0]} with deflate's LSB-first order
   * @param spanLength the span's uncompressed length; {@code skip + length} must not exceed it
   */
  static boolean inflate(
      byte[] compressed,
      int bits,
      byte[] window,
      int windowOffset,
      long endBit,
      int spanLength,
      int skip,
      byte[] destination,
      int length) {
    Libdeflate.Library library = Libdeflate.get();
    int dataStart = bits > 0 ? 1 : 0;
    int endByte = (int) (endBit >>> 3);
    int endBitInByte = (int) (endBit & 7);
    boolean endInside =
        endBitInByte == 0 ? endByte <= compressed.length : endByte < compressed.length;
    if (library == null
        || spanLength > MAX_SPAN_LENGTH
        || endBit >>> 3 > Integer.MAX_VALUE
        || endByte < dataStart
        || !endInside) {
      return false;
    }

    byte[] preamble = bits > 0 ? CheckpointInflater.preamble(bits) : new byte[0];
    int inputLength =
        STORED_HEADER_SIZE + WINDOW_SIZE + preamble.length + endByte - dataStart + TAIL_SIZE;
    int outputLength = WINDOW_SIZE + spanLength;
    Scratch scratch = acquire(library, inputLength, outputLength);
    if (scratch == null) {
      return false;
    }
    try {
      // 1. The stored block with the window.
      NativeBuffer input = scratch.input;
      input.put(0, new byte[] {0, 0, (byte) 0x80, (byte) 0xff, 0x7f}, 0, STORED_HEADER_SIZE);
      input.put(STORED_HEADER_SIZE, window, windowOffset, WINDOW_SIZE);
      int position = STORED_HEADER_SIZE + WINDOW_SIZE;

      // 2. The preamble, if any, and the span's whole bytes.
      if (bits > 0) {
        preamble[preamble.length - 1] |= (byte) (compressed[0] & (0xff << (8 - bits)));
        input.put(position, preamble, 0, preamble.length);
        position += preamble.length;
      }
      input.put(position, compressed, dataStart, endByte - dataStart);
      position += endByte - dataStart;

      // 3. The span's last bits and the empty final block after them.
      int lastBits = endBitInByte == 0 ? 0 : compressed[endByte] & ((1 << endBitInByte) - 1);
      int tail = lastBits | FINAL_EMPTY_FIXED_BLOCK << endBitInByte;
      input.put(position, new byte[] {(byte) tail, (byte) (tail >>> 8), 0}, 0, TAIL_SIZE);

      // 4. Inflate and keep the requested part of the span.
      int result =
          library.libdeflate_deflate_decompress(
              scratch.decompressor,
              input.pointer(),
              inputLength,
              scratch.output.pointer(),
              outputLength,
              scratch.actualOutput.pointer());
      if (result != Libdeflate.SUCCESS
          || scratch.actualOutput.pointer().getLong(0) != outputLength) {
        return false;
      }
      scratch.output.get(WINDOW_SIZE + skip, destination, 0, length);
      return true;
    } finally {
      release(scratch);
    }
  }

  private static @Nullable Scratch acquire(
      Libdeflate.Library library, int inputLength, int outputLength) {
    Scratch scratch = idle.poll();
    if (scratch == null) {
      Pointer decompressor = library.libdeflate_alloc_decompressor();
      if (decompressor == null || decompressor.address() == 0) {
        return null;
      }
      return new Scratch(library, decompressor, inputLength, outputLength);
    }
    idleCount.decrementAndGet();
    scratch.ensureCapacity(inputLength, outputLength);
    return scratch;
  }

  private static void release(Scratch scratch) {
    if (idleCount.incrementAndGet() <= IDLE_LIMIT) {
      idle.add(scratch);
    } else {
      idleCount.decrementAndGet();
      scratch.close();
    }
  }

  /** A decompressor with native input and output buffers, used by one call at a time. */
  private static final class Scratch implements AutoCloseable {
    private final Libdeflate.Library library;
    private final Pointer decompressor;
    private final NativeBuffer actualOutput;
    private NativeBuffer input;
    private NativeBuffer output;

    Scratch(Libdeflate.Library library, Pointer decompressor, int inputLength, int outputLength) {
      this.library = library;
      this.decompressor = decompressor;
      this.actualOutput = NativeBuffer.allocate(Zlib.get(), Long.BYTES);
      this.input = NativeBuffer.allocate(Zlib.get(), inputLength);
      this.output = NativeBuffer.allocate(Zlib.get(), outputLength);
    }

    /** Replaces a buffer that is too small with a larger one. */
    void ensureCapacity(int inputLength, int outputLength) {
      if (input.size() < inputLength) {
        input.close();
        input = NativeBuffer.allocate(Zlib.get(), inputLength);
      }
      if (output.size() < outputLength) {
        output.close();
        output = NativeBuffer.allocate(Zlib.get(), outputLength);
      }
    }

    @Override
    public void close() {
      library.libdeflate_free_decompressor(decompressor);
      actualOutput.close();
      input.close();
      output.close();
    }
  }
}
