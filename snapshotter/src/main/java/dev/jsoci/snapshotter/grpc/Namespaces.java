package dev.jsoci.snapshotter.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * The containerd namespace of a call, which containerd sends in the gRPC metadata header {@code
 * containerd-namespace}.
 */
final class Namespaces {
  static final Metadata.Key<String> HEADER =
      Metadata.Key.of("containerd-namespace", Metadata.ASCII_STRING_MARSHALLER);

  private static final Context.Key<String> KEY = Context.key("containerd-namespace");

  private Namespaces() {}

  /** Returns the namespace of the current call, or an empty string when it sent none. */
  static String current() {
    String namespace = KEY.get();
    return namespace == null ? "" : namespace;
  }

  /** Returns an interceptor that makes the header available to {@link #current()}. */
  static ServerInterceptor interceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String namespace = headers.get(HEADER);
        Context context = Context.current().withValue(KEY, namespace == null ? "" : namespace);
        return Contexts.interceptCall(context, call, headers, next);
      }
    };
  }
}
