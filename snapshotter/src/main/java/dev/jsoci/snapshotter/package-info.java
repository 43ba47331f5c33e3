/**
 * The {@code jsoci-snapshotter} daemon: containerd's snapshot operations over overlayfs
 * directories, the remote-snapshot decision for lazily pulled layers, and the program that serves
 * them on a unix socket.
 *
 * <p>May use {@code .errdefs}, {@code .metadata}, {@code .grpc}, {@code .logging}, the {@code
 * config} and {@code oci} modules, picocli and SLF4J. The {@code .grpc} package depends on this
 * one; the only way back is through {@link dev.jsoci.snapshotter.Daemon}, which wires them.
 */
@NullMarked
package dev.jsoci.snapshotter;

import org.jspecify.annotations.NullMarked;
