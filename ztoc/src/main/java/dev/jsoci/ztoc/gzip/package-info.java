/**
 * Gzip layers: a single pass over the blob that records the checkpoints and span digests of a zTOC,
 * the checkpoint blob of the {@code checkpoints} field, and inflation of any uncompressed range
 * from a checkpoint.
 *
 * <p>The pass uses the system zlib through jnr-ffi, because it needs zlib's {@code Z_BLOCK} stops
 * and the bit position at each deflate block boundary, which {@link java.util.zip.Inflater} does
 * not expose. Span inflation uses {@link java.util.zip.Inflater}: on whole 4 MiB spans it was about
 * 10% faster than the binding (zlib 1.2.13 on x86-64), probably because it needs no copies to and
 * from native memory.
 */
@NullMarked
package dev.jsoci.ztoc.gzip;

import org.jspecify.annotations.NullMarked;
