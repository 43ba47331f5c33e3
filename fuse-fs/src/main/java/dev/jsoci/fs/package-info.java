/**
 * The read-only filesystem of one layer, built from its TOC.
 *
 * <p>May use {@code dev.jsoci.oci}, {@code dev.jsoci.ztoc} and, in {@code dev.jsoci.fs.fuse} only,
 * jnr-fuse, and SLF4J for logging. Never uses {@code dev.jsoci.fetcher}: file contents come through
 * an interface this package owns.
 */
@NullMarked
package dev.jsoci.fs;

import org.jspecify.annotations.NullMarked;
