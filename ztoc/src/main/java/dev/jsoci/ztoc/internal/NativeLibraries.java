package dev.jsoci.ztoc.internal;

import jnr.ffi.LibraryLoader;
import jnr.ffi.LibraryOption;

/** Loading of system libraries through jnr-ffi, shared by the zlib and zstd bindings. */
public final class NativeLibraries {
  private NativeLibraries() {}

  /**
   * Loads the first of {@code names} that the dynamic linker finds and binds {@code type} to it.
   * Errno is not saved after calls, because the libraries bound here report errors through return
   * codes.
   *
   * @throws UnsatisfiedLinkError if no name can be loaded; it carries the other names' errors as
   *     suppressed exceptions
   */
  public static <T> T loadFirst(Class<T> type, String... names) {
    UnsatisfiedLinkError failure = null;
    for (String name : names) {
      try {
        return LibraryLoader.create(type)
            .option(LibraryOption.IgnoreError, true)
            .failImmediately()
            .load(name);
      } catch (UnsatisfiedLinkError e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure == null) {
      throw new IllegalArgumentException("no library names given for " + type.getName());
    }
    throw failure;
  }
}
