package dev.jsoci.ztoc.zstd;

import dev.jsoci.ztoc.internal.NativeLibraries;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.types.size_t;
import org.jspecify.annotations.Nullable;

/**
 * The system libzstd and the C library's allocator, bound through jnr-ffi and loaded on first use.
 *
 * <p>Only the streaming decompression functions are mapped; names and argument types follow
 * zstd.h of zstd 1.4 and newer. A {@code size_t} result is either a size or an error code, and
 * {@code ZSTD_isError} distinguishes them.
 */
final class Zstd {
  /** The libzstd functions. Public because jnr-ffi implements it in its own class loader. */
  public interface Library {
    String ZSTD_versionString();

    Pointer ZSTD_createDStream();

    @size_t
    long ZSTD_freeDStream(Pointer stream);

    @size_t
    long ZSTD_initDStream(Pointer stream);

    /**
     * Decompresses from {@code input} into {@code output}, both {@code ZSTD_inBuffer} and {@code
     * ZSTD_outBuffer} structs of three address-sized fields (data, size, pos), and advances their
     * {@code pos}. Returns 0 when a frame is complete and flushed, a hint of input bytes to supply
     * next otherwise, or an error code.
     */
    @size_t
    long ZSTD_decompressStream(Pointer stream, Pointer output, Pointer input);

    int ZSTD_isError(@size_t long code);

    String ZSTD_getErrorName(@size_t long code);

    @size_t
    long ZSTD_DStreamInSize();

    @size_t
    long ZSTD_DStreamOutSize();
  }

  /** The C library's allocator, so native buffers are freed when closed rather than by the GC. */
  public interface CLibrary {
    Pointer malloc(@size_t long size);

    void free(Pointer pointer);
  }

  /** The soname of libzstd 1.x, shipped by Debian's and Ubuntu's {@code libzstd1} package. */
  static final String SONAME = "libzstd.so.1";

  private static final String[] NAMES = {SONAME, "zstd"};

  private static @Nullable Zstd instance;
  private static @Nullable ZstdUnavailableException failure;

  private final Library library;
  private final CLibrary c;
  private final Runtime runtime;
  private final String version;

  private Zstd(Library library, CLibrary c) {
    this.library = library;
    this.c = c;
    this.runtime = Runtime.getRuntime(library);
    this.version = library.ZSTD_versionString();
  }

  /**
   * Returns the loaded library, loading it on the first call.
   *
   * @throws ZstdUnavailableException if libzstd cannot be loaded; later calls throw it again
   *     without retrying
   */
  static synchronized Zstd get() throws ZstdUnavailableException {
    if (instance != null) {
      return instance;
    }
    if (failure == null) {
      try {
        instance = load();
        return instance;
      } catch (UnsatisfiedLinkError e) {
        failure =
            new ZstdUnavailableException(
                "cannot load the system zstd library "
                    + SONAME
                    + ": install it (Debian and Ubuntu: apt-get install libzstd1)",
                e);
      }
    }
    throw failure;
  }

  private static Zstd load() {
    Library library = NativeLibraries.loadFirst(Library.class, NAMES);
    return new Zstd(library, NativeLibraries.loadFirst(CLibrary.class, "c"));
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

  /** Returns the version string of the loaded libzstd, such as {@code 1.5.4}. */
  String version() {
    return version;
  }
}
