/**
 * The zTOC format of SOCI indexes: the table of contents of a layer, its gzip checkpoints or tar
 * span layout, encoding and decoding of the flatbuffer, and decompression of any range.
 *
 * <p>This module is a leaf: it may use {@code dev.jsoci.oci} and flatbuffers-java, and the system
 * zlib and libzstd through jnr-ffi. It opens no sockets, starts no threads and never logs.
 */
@NullMarked
package dev.jsoci.ztoc;

import org.jspecify.annotations.NullMarked;
