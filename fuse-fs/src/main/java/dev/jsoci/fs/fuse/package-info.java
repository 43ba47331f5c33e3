/**
 * Mounts a layer's filesystem through FUSE: the jnr-fuse adapter, the mapping of error names to the
 * platform's numbers, and mount and unmount.
 *
 * <p>The only package of the module that imports jnr. It needs libfuse 2 ({@code libfuse.so.2}),
 * {@code /dev/fuse} and the {@code fusermount} program.
 */
@NullMarked
package dev.jsoci.fs.fuse;

import org.jspecify.annotations.NullMarked;
