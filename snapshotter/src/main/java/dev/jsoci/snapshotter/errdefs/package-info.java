/**
 * The error classes of containerd's snapshot API (its {@code errdefs} package), which the gRPC
 * layer turns into the status codes containerd decodes.
 *
 * <p>Depends on nothing else in jsoci.
 */
@NullMarked
package dev.jsoci.snapshotter.errdefs;

import org.jspecify.annotations.NullMarked;
