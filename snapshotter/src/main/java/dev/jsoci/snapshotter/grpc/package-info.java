/**
 * containerd's Snapshots gRPC service (API v1) on a unix socket: request decoding, status codes,
 * the containerd namespace header, and the server's life cycle.
 *
 * <p>May use {@code dev.jsoci.snapshotter}, its {@code .errdefs} and {@code .metadata} packages,
 * grpc-java, netty (shaded in grpc-netty-shaded), protobuf and SLF4J. The generated classes in
 * {@code .api} are used here only.
 */
@NullMarked
package dev.jsoci.snapshotter.grpc;

import org.jspecify.annotations.NullMarked;
