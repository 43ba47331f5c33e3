/**
 * Snapshot records in an embedded SQLite database, and containerd's filter language for listing
 * them.
 *
 * <p>May use {@code dev.jsoci.snapshotter.errdefs}, sqlite-jdbc and SLF4J.
 */
@NullMarked
package dev.jsoci.snapshotter.metadata;

import org.jspecify.annotations.NullMarked;
