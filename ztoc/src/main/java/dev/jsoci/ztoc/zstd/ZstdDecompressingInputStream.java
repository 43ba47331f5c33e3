package dev.jsoci.ztoc.zstd;

import java.io.IOException;
import java.io.InputStream;
import java.util.Objects;
import jnr.ffi.Pointer;

/**
 * Decompresses a zstd stream (RFC 8878) as it is read: one or more frames, in any mix with
 * skippable frames, each decoded with a window of at most 128 MiB (libzstd's default limit).
 *
 * <p>Memory use is bounded by libzstd's stream state plus about 256 KiB of buffers, whatever the
 * size of the stream. The stream fails with {@link ZstdFormatException} on a corrupt frame, on
 * bytes after the last frame that do not start another, on a truncated frame and on empty input.
 *
 * <p>NOTE: frames that need a larger window, such as those of {@code zstd --long=28} and above on
 * large input, fail with libzstd's "Frame requires too much memory for decoding".
 *
 * <p>Warning: {@link #close()} frees native memory and closes the compressed input; close the
 * stream also when it is abandoned early. Not thread-safe.
 */
public final class ZstdDecompressingInputStream extends InputStream {
  private final InputStream compressed;
  private final String name;
  private final Zstd zstd;
  private final Zstd.Library library;
  private final Pointer stream;

  /**
   * One native block: the {@code ZSTD_inBuffer} and {@code ZSTD_outBuffer} structs, then the input
   * bytes, then the output bytes.
   */
  private final Pointer memory;

  private final Pointer inBuffer;
  private final Pointer outBuffer;
  private final int wordBytes;
  private final long inStruct;
  private final long outStruct;
  private final long inData;
  private final long outData;
  private final int inCapacity;
  private final int outCapacity;
  private final byte[] transfer;

  /** Compressed bytes consumed before the current input buffer, for error messages. */
  private long compressedOffset;

  private int inLength;
  private int inPosition;
  private int outLength;
  private int outPosition;
  private boolean anyInput;
  private boolean frameComplete;
  private boolean ended;
  private boolean closed;

  /**
   * Starts decompressing {@code compressed}.
   *
   * @param name what the stream is, such as {@code layer sha256:...}, to start error messages
   * @throws ZstdUnavailableException if the system libzstd cannot be loaded
   */
  public ZstdDecompressingInputStream(InputStream compressed, String name)
      throws ZstdUnavailableException {
    this.compressed = Objects.requireNonNull(compressed, "compressed");
    this.name = Objects.requireNonNull(name, "name");
    this.zstd = Zstd.get();
    this.library = zstd.library();
    this.inCapacity = (int) Math.min(library.ZSTD_DStreamInSize(), 1 << 20);
    this.outCapacity = (int) Math.min(library.ZSTD_DStreamOutSize(), 1 << 20);
    this.wordBytes = zstd.runtime().addressSize();
    this.inStruct = 0;
    this.outStruct = 3L * wordBytes;
    this.inData = 6L * wordBytes;
    this.outData = inData + inCapacity;
    this.transfer = new byte[Math.max(inCapacity, outCapacity)];

    long size = outData + outCapacity;
    Pointer raw = zstd.c().malloc(size);
    if (raw == null || raw.address() == 0) {
      throw new OutOfMemoryError("malloc of " + size + " bytes of native memory failed");
    }
    this.memory = zstd.runtime().getMemoryManager().newPointer(raw.address(), size);
    Pointer created = library.ZSTD_createDStream();
    if (created == null || created.address() == 0) {
      zstd.c().free(memory);
      throw new OutOfMemoryError("ZSTD_createDStream could not allocate its state");
    }
    this.stream = created;
    long result = library.ZSTD_initDStream(stream);
    if (library.ZSTD_isError(result) != 0) {
      String error = library.ZSTD_getErrorName(result);
      library.ZSTD_freeDStream(stream);
      zstd.c().free(memory);
      throw new IllegalStateException(
          "ZSTD_initDStream failed: " + error + " (libzstd " + zstd.version() + ")");
    }

    this.inBuffer = memory.slice(inStruct);
    this.outBuffer = memory.slice(outStruct);
    memory.putAddress(inStruct, memory.address() + inData);
    memory.putAddress(inStruct + wordBytes, 0);
    memory.putAddress(inStruct + 2L * wordBytes, 0);
    memory.putAddress(outStruct, memory.address() + outData);
    memory.putAddress(outStruct + wordBytes, outCapacity);
    memory.putAddress(outStruct + 2L * wordBytes, 0);
  }

  /** Returns the version of the system libzstd, loading it if needed. */
  public static String libraryVersion() throws ZstdUnavailableException {
    return Zstd.get().version();
  }

  @Override
  public int read() throws IOException {
    byte[] single = new byte[1];
    int n = read(single, 0, 1);
    return n < 0 ? -1 : single[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, buffer.length);
    if (closed) {
      throw new IOException(name + ": zstd stream already closed");
    }
    if (length == 0) {
      return 0;
    }
    while (outPosition == outLength) {
      if (ended) {
        return -1;
      }
      decompressMore();
    }
    int n = Math.min(length, outLength - outPosition);
    memory.get(outData + outPosition, buffer, offset, n);
    outPosition += n;
    return n;
  }

  @Override
  public int available() {
    return outLength - outPosition;
  }

  /**
   * Runs one {@code ZSTD_decompressStream} call, first reading more compressed bytes when libzstd
   * has consumed all of them and has no output left to flush. Sets {@link #ended} at a clean end.
   */
  private void decompressMore() throws IOException {
    // A full output buffer may mean that libzstd has more decoded bytes, unless it returned 0:
    // then the frame is flushed, and a call without new input would start reading the next frame.
    boolean mayHoldOutput = outLength == outCapacity && !frameComplete;
    if (inPosition == inLength && !mayHoldOutput) {
      int n = compressed.read(transfer, 0, inCapacity);
      if (n < 0) {
        finish();
        return;
      }
      anyInput = true;
      memory.put(inData, transfer, 0, n);
      compressedOffset += inLength;
      inLength = n;
      inPosition = 0;
      memory.putAddress(inStruct + wordBytes, n);
      memory.putAddress(inStruct + 2L * wordBytes, 0);
    }

    memory.putAddress(outStruct + 2L * wordBytes, 0);
    long result = library.ZSTD_decompressStream(stream, outBuffer, inBuffer);
    if (library.ZSTD_isError(result) != 0) {
      throw new ZstdFormatException(
          name
              + ": invalid zstd data at or after compressed byte "
              + (compressedOffset + inPosition)
              + ": "
              + library.ZSTD_getErrorName(result));
    }
    inPosition = (int) memory.getAddress(inStruct + 2L * wordBytes);
    outLength = (int) memory.getAddress(outStruct + 2L * wordBytes);
    outPosition = 0;
    frameComplete = result == 0;
  }

  private void finish() throws ZstdFormatException {
    if (!anyInput) {
      throw new ZstdFormatException(name + ": empty, expected a zstd frame");
    }
    if (!frameComplete) {
      throw new ZstdFormatException(
          name
              + ": truncated zstd frame: the data ends at compressed byte "
              + (compressedOffset + inLength));
    }
    ended = true;
  }

  /** Frees the native memory and closes the compressed input; later calls do nothing. */
  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    library.ZSTD_freeDStream(stream);
    zstd.c().free(memory);
    compressed.close();
  }
}
