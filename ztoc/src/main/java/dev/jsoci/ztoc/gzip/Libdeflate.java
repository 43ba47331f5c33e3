package dev.jsoci.ztoc.gzip;

import dev.jsoci.ztoc.internal.NativeLibraries;
import jnr.ffi.Pointer;
import jnr.ffi.types.size_t;
import org.jspecify.annotations.Nullable;

/**
 * The system libdeflate (Debian's {@code libdeflate0}), bound through jnr-ffi and loaded on first
 * use, or absent when the dynamic linker cannot find it.
 *
 * <p>Only whole-buffer raw deflate decompression is mapped; names and argument types follow
 * libdeflate.h of libdeflate 1.x, whose decompression interface has not changed since 1.0.
 */
final class Libdeflate {
  static final int SUCCESS = 0;

  /** The libdeflate functions. Public because jnr-ffi implements it in its own class loader. */
  public interface Library {
    Pointer libdeflate_alloc_decompressor();

    int libdeflate_deflate_decompress(
        Pointer decompressor,
        Pointer in,
        @size_t long inBytes,
        Pointer out,
        @size_t long outBytesAvailable,
        Pointer actualOutBytes);

    void libdeflate_free_decompressor(Pointer decompressor);
  }

  private static final String[] NAMES = {"deflate", "libdeflate.so.0"};

  private static final class Holder {
    static final @Nullable Library INSTANCE = load();
  }

  private Libdeflate() {}

  /** Returns the library, or null when it is not installed. */
  static @Nullable Library get() {
    return Holder.INSTANCE;
  }

  private static @Nullable Library load() {
    try {
      return NativeLibraries.loadFirst(Library.class, NAMES);
    } catch (UnsatisfiedLinkError e) {
      return null;
    }
  }
}
