package dev.jsoci.ztoc.gzip;

import jnr.ffi.Pointer;

/**
 * A block of native memory from the C library's {@code malloc}, freed by {@link #close()}.
 *
 * <p>Warning: the memory is not tracked by the garbage collector; a buffer that is never closed
 * leaks. Not thread-safe.
 */
final class NativeBuffer implements AutoCloseable {
  private final Zlib zlib;
  private final Pointer pointer;
  private final long address;
  private final int size;
  private boolean freed;

  private NativeBuffer(Zlib zlib, Pointer pointer, int size) {
    this.zlib = zlib;
    this.pointer = pointer;
    this.address = pointer.address();
    this.size = size;
  }

  /**
   * Allocates {@code size} bytes set to zero.
   *
   * @throws OutOfMemoryError if {@code malloc} returns null
   */
  static NativeBuffer allocate(Zlib zlib, int size) {
    if (size <= 0) {
      throw new IllegalArgumentException("size is " + size + ", expected > 0");
    }
    Pointer raw = zlib.c().malloc(size);
    if (raw == null || raw.address() == 0) {
      throw new OutOfMemoryError("malloc of " + size + " bytes of native memory failed");
    }
    Pointer bounded = zlib.runtime().getMemoryManager().newPointer(raw.address(), size);
    bounded.setMemory(0, size, (byte) 0);
    return new NativeBuffer(zlib, bounded, size);
  }

  /** Returns the memory; valid until {@link #close()}. */
  Pointer pointer() {
    checkNotFreed();
    return pointer;
  }

  long address() {
    checkNotFreed();
    return address;
  }

  int size() {
    return size;
  }

  /** Copies {@code length} bytes of {@code source} from {@code sourceOffset} to {@code offset}. */
  void put(int offset, byte[] source, int sourceOffset, int length) {
    checkNotFreed();
    pointer.put(offset, source, sourceOffset, length);
  }

  /**
   * Copies {@code length} bytes from {@code offset} into {@code target} at {@code targetOffset}.
   */
  void get(int offset, byte[] target, int targetOffset, int length) {
    checkNotFreed();
    pointer.get(offset, target, targetOffset, length);
  }

  /** Copies {@code length} bytes within the buffer; the two ranges must not overlap. */
  void copyWithin(int sourceOffset, int targetOffset, int length) {
    checkNotFreed();
    pointer.transferTo(sourceOffset, pointer, targetOffset, length);
  }

  private void checkNotFreed() {
    if (freed) {
      throw new IllegalStateException("native buffer already freed");
    }
  }

  /** Frees the memory; later calls do nothing. */
  @Override
  public void close() {
    if (!freed) {
      freed = true;
      zlib.c().free(pointer);
    }
  }
}
