package dev.jsoci.fetcher.registry;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;
import org.jspecify.annotations.Nullable;

/**
 * Remembers the registry hosts that asked for a TLS client certificate in a handshake where this
 * client had none to offer: none configured, or none issued by an authority the host named. A
 * server that requires one then closes the connection, which reaches the caller only as a broken
 * pipe or a reset; the record lets {@link TlsAdvice} name the cause. Thread-safe.
 */
final class ClientCertificateRequests {
  /** The maximum of hosts remembered. A client talks to a few, so this only bounds a long run. */
  private static final int MAX_HOSTS = 256;

  /** The reason a request for a client certificate went unanswered. */
  enum Unanswered {
    /** No client certificate is configured for the host. */
    NONE_CONFIGURED,
    /** None of the configured certificates is issued by an authority that the host accepts. */
    NONE_ACCEPTED
  }

  private record Request(long nanos, Unanswered reason) {}

  private final Map<String, Request> unanswered = new ConcurrentHashMap<>();

  /**
   * Returns a key manager that offers what {@code delegate} offers, or nothing when it is null, and
   * records each request for a client certificate that it leaves unanswered.
   */
  X509ExtendedKeyManager recording(@Nullable X509KeyManager delegate) {
    return new RecordingKeyManager(delegate);
  }

  /**
   * Returns the reason {@code host} at {@code port} got no client certificate when it requested one
   * at or after {@code sinceNanos} on {@link System#nanoTime}'s scale, or null when it made no such
   * request then or got a certificate.
   */
  @Nullable Unanswered unansweredSince(String host, int port, long sinceNanos) {
    Request request = unanswered.get(key(host, port));
    return request != null && request.nanos() - sinceNanos >= 0 ? request.reason() : null;
  }

  private void record(@Nullable String host, int port, boolean configured) {
    if (host == null) {
      return;
    }
    if (unanswered.size() >= MAX_HOSTS) {
      unanswered.clear();
    }
    Unanswered reason = configured ? Unanswered.NONE_ACCEPTED : Unanswered.NONE_CONFIGURED;
    unanswered.put(key(host, port), new Request(System.nanoTime(), reason));
  }

  private static String key(String host, int port) {
    return host.toLowerCase(Locale.ROOT) + ":" + port;
  }

  private final class RecordingKeyManager extends X509ExtendedKeyManager {
    private final @Nullable X509KeyManager delegate;

    RecordingKeyManager(@Nullable X509KeyManager delegate) {
      this.delegate = delegate;
    }

    @Override
    public @Nullable String chooseClientAlias(
        String[] keyTypes, Principal[] issuers, Socket socket) {
      String alias =
          delegate == null ? null : delegate.chooseClientAlias(keyTypes, issuers, socket);
      if (alias == null && socket instanceof SSLSocket) {
        SSLSession session = ((SSLSocket) socket).getHandshakeSession();
        if (session != null) {
          record(session.getPeerHost(), session.getPeerPort(), delegate != null);
        }
      }
      return alias;
    }

    @Override
    public @Nullable String chooseEngineClientAlias(
        String[] keyTypes, Principal[] issuers, SSLEngine engine) {
      String alias = null;
      if (delegate instanceof X509ExtendedKeyManager) {
        alias =
            ((X509ExtendedKeyManager) delegate).chooseEngineClientAlias(keyTypes, issuers, engine);
      }
      if (alias == null) {
        record(engine.getPeerHost(), engine.getPeerPort(), delegate != null);
      }
      return alias;
    }

    @Override
    public String @Nullable [] getClientAliases(String keyType, Principal[] issuers) {
      return delegate == null ? null : delegate.getClientAliases(keyType, issuers);
    }

    @Override
    public String @Nullable [] getServerAliases(String keyType, Principal[] issuers) {
      return null;
    }

    @Override
    public @Nullable String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return null;
    }

    @Override
    public X509Certificate @Nullable [] getCertificateChain(String alias) {
      return delegate == null ? null : delegate.getCertificateChain(alias);
    }

    @Override
    public @Nullable PrivateKey getPrivateKey(String alias) {
      return delegate == null ? null : delegate.getPrivateKey(alias);
    }
  }
}
