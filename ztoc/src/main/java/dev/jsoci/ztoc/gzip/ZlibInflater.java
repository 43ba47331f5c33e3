package dev.jsoci.ztoc.gzip;

import jnr.ffi.Pointer;
import jnr.ffi.Struct;
import org.jspecify.annotations.Nullable;

/**
 * One zlib inflate stream ({@code z_stream} plus zlib's internal state) in native memory.
 *
 * <p>Input and output are addresses in native memory owned by the caller, who keeps them valid
 * during each {@link #inflate} call. {@link #close()} calls {@code inflateEnd} and frees the
 * stream. Warning: an inflater that is never closed leaks about 40 KiB of native memory. Not
 * thread-safe.
 */
final class ZlibInflater implements AutoCloseable {
  private final Zlib zlib;
  private final Zlib.Library library;
  private final NativeBuffer streamMemory;
  private final ZStream stream;
  private final Pointer streamPointer;
  private boolean ended;

  private ZlibInflater(Zlib zlib, int windowBits) {
    this.zlib = zlib;
    this.library = zlib.library();
    this.stream = new ZStream(zlib.runtime());
    int streamSize = Struct.size(stream);
    this.streamMemory = NativeBuffer.allocate(zlib, streamSize);
    this.streamPointer = streamMemory.pointer();
    stream.useMemory(streamPointer);

    // A zeroed z_stream has null zalloc, zfree and next_in, so zlib uses malloc and free.
    int result = library.inflateInit2_(streamPointer, windowBits, zlib.version(), streamSize);
    if (result != Zlib.Z_OK) {
      streamMemory.close();
      if (result == Zlib.Z_MEM_ERROR) {
        throw new OutOfMemoryError("zlib inflateInit2_ could not allocate its state");
      }
      throw new IllegalStateException(
          "zlib inflateInit2_ failed with " + result + " (zlib " + zlib.version() + ")");
    }
  }

  /** Returns an inflater for raw deflate data without a wrapper. */
  static ZlibInflater newRawInflater() {
    return new ZlibInflater(Zlib.get(), Zlib.RAW_WINDOW_BITS);
  }

  Zlib zlib() {
    return zlib;
  }

  /** Sets {@code next_in} and {@code avail_in}. */
  void setInput(long address, int length) {
    stream.nextIn.set(address);
    stream.availIn.set(length);
  }

  /** Sets {@code next_out} and {@code avail_out}. */
  void setOutput(long address, int length) {
    stream.nextOut.set(address);
    stream.availOut.set(length);
  }

  int availableInput() {
    return (int) stream.availIn.get();
  }

  int availableOutput() {
    return (int) stream.availOut.get();
  }

  /**
   * Returns {@code data_type}: the number of unused bits in the last input byte consumed, plus 64
   * while inflating the final block, plus 128 right after a block boundary or a gzip header.
   */
  int dataType() {
    return stream.dataType.get();
  }

  /** Returns zlib's message for the last error, or null when zlib set none. */
  @Nullable String message() {
    Pointer message = stream.msg.get();
    return message == null || message.address() == 0 ? null : message.getString(0);
  }

  /** Calls {@code inflate} with the given flush mode and returns zlib's result code. */
  int inflate(int flush) {
    checkOpen();
    return library.inflate(streamPointer, flush);
  }

  /** Calls {@code inflateReset}: the next input is a new stream, and the window is emptied. */
  void reset() {
    checkOpen();
    check("inflateReset", library.inflateReset(streamPointer));
  }

  private void check(String function, int result) {
    if (result != Zlib.Z_OK) {
      throw new IllegalStateException("zlib " + function + " failed with " + result);
    }
  }

  private void checkOpen() {
    if (ended) {
      throw new IllegalStateException("inflater already closed");
    }
  }

  /** Frees zlib's state and the stream; later calls do nothing. */
  @Override
  public void close() {
    if (!ended) {
      ended = true;
      library.inflateEnd(streamPointer);
      streamMemory.close();
    }
  }
}
