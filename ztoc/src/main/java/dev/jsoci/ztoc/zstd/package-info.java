/**
 * zstd decompression of layer blobs through the system libzstd, for re-compressing zstd layers to
 * gzip and for unpacking them. zTOCs do not index zstd layers.
 */
@NullMarked
package dev.jsoci.ztoc.zstd;

import org.jspecify.annotations.NullMarked;
