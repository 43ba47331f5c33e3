package dev.jsoci.ztoc.gzip;

import dev.jsoci.ztoc.internal.NativeLibraries;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.types.size_t;

/**
 * The system zlib and the C library's allocator, bound through jnr-ffi and loaded on first use.
 *
 * <p>Only the functions this package calls are mapped; names and argument types follow zlib.h of
 * zlib 1.2.x. A {@code z_stream} argument is the address of a {@link ZStream} in native memory that
 * stays at the same address from {@code inflateInit2_} to {@code inflateEnd}, because zlib stores
 * that address in its state and rejects calls with a moved stream.
 */
final class Zlib {
  static final int Z_OK = 0;
  static final int Z_STREAM_END = 1;
  static final int Z_DATA_ERROR = -3;
  static final int Z_MEM_ERROR = -4;
  static final int Z_BUF_ERROR = -5;

  static final int Z_BLOCK = 5;

  /** windowBits for a 32 KiB window and raw deflate data without a wrapper. */
  static final int RAW_WINDOW_BITS = -15;

  /** The zlib functions. Public because jnr-ffi implements it in its own class loader. */
  public interface Library {
    String zlibVersion();

    int inflateInit2_(Pointer stream, int windowBits, String version, int streamSize);

    int inflate(Pointer stream, int flush);

    int inflateReset(Pointer stream);

    int inflateEnd(Pointer stream);
  }

  /** The C library's allocator, so native buffers are freed when closed rather than by the GC. */
  public interface CLibrary {
    Pointer malloc(@size_t long size);

    void free(Pointer pointer);
  }

  private static final String[] ZLIB_NAMES = {"z", "libz.so.1"};

  private final Library library;
  private final CLibrary c;
  private final Runtime runtime;
  private final String version;

  private Zlib(Library library, CLibrary c) {
    this.library = library;
    this.c = c;
    this.runtime = Runtime.getRuntime(library);
    this.version = library.zlibVersion();
  }

  private static final class Holder {
    static final Zlib INSTANCE = load();
  }

  /**
   * Returns the loaded library.
   *
   * @throws UnsatisfiedLinkError if neither {@code libz.so} nor {@code libz.so.1} can be loaded
   */
  static Zlib get() {
    return Holder.INSTANCE;
  }

  private static Zlib load() {
    // Try the development symlink first, then the runtime soname: a machine without the zlib
    // development package has only libz.so.1.
    try {
      Library library = NativeLibraries.loadFirst(Library.class, ZLIB_NAMES);
      return new Zlib(library, NativeLibraries.loadFirst(CLibrary.class, "c"));
    } catch (UnsatisfiedLinkError e) {
      UnsatisfiedLinkError error =
          new UnsatisfiedLinkError("cannot load the system zlib as libz.so or libz.so.1");
      error.initCause(e);
      throw error;
    }
  }

  Library library() {
    return library;
  }

  CLibrary c() {
    return c;
  }

  Runtime runtime() {
    return runtime;
  }

  /** Returns the version string of the loaded zlib, such as {@code 1.2.13}. */
  String version() {
    return version;
  }
}
