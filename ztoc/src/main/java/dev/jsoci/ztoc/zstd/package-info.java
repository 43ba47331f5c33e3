/**
 * zstd decompression of layer blobs through the system libzstd, for re-compressing zstd layers to
 * gzip and for unpacking them. zTOCs do not index zstd layers.
 *
 * <p>The binding uses jnr-ffi, as the gzip package does for zlib, instead of zstd-jni. On a 400 MB
 * tar compressed with {@code zstd -3}, both decoded about 1.0 to 1.1 GB of output per CPU second
 * (libzstd 1.5.4 against zstd-jni 1.5.7-21, x86-64, thread CPU time on a fully busy 2-core
 * machine), so the binding avoids a dependency that bundles native libraries for every platform.
 */
@NullMarked
package dev.jsoci.ztoc.zstd;

import org.jspecify.annotations.NullMarked;
