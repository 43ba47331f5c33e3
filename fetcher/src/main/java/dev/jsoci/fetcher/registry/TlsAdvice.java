package dev.jsoci.fetcher.registry;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * Explains a registry request that failed in its TLS setup and names the setting to change: plain
 * HTTP, the registry's CA, the host name, or a client certificate. None of these failures goes away
 * when the request is sent again.
 */
final class TlsAdvice {
  /** The alerts a server sends when it does not accept the client certificate it got. */
  private static final List<String> CLIENT_CERTIFICATE_ALERTS =
      List.of(
          "bad_certificate",
          "unsupported_certificate",
          "certificate_revoked",
          "certificate_expired",
          "certificate_unknown",
          "unknown_ca",
          "access_denied",
          "certificate_required");

  private TlsAdvice() {}

  /**
   * Returns what went wrong and what to change, or null when {@code failure} is not a TLS setup
   * failure.
   *
   * @param registry the registry whose {@code hosts.toml} configures the host of {@code url}
   * @param hostsDirectory the directory of {@code hosts.toml} files, or null when none is read
   * @param unanswered the reason the host got no client certificate when it requested one during
   *     the failed attempt, or null when it made no such request or got a certificate
   * @param configuredMirror whether the host is a mirror of {@link RegistryOptions#mirrors()},
   *     whose TLS settings must move to a {@code hosts.toml}
   */
  static @Nullable String explain(
      IOException failure,
      String registry,
      HttpUrl url,
      @Nullable Path hostsDirectory,
      ClientCertificateRequests.@Nullable Unanswered unanswered,
      boolean configuredMirror) {
    String advice = explain(failure, registry, url, hostsDirectory, unanswered);
    if (advice == null || !configuredMirror || RetryPolicy.isPlainHttpResponse(failure)) {
      return advice;
    }
    String host = RegistryEndpoint.authorityOf(url);
    return advice
        + " ("
        + host
        + " is a [resolver] mirror of config.toml, which takes no TLS settings: configure it as"
        + " a [host.\"https://"
        + host
        + "\"] table in the hosts.toml of "
        + registry
        + " instead)";
  }

  private static @Nullable String explain(
      IOException failure,
      String registry,
      HttpUrl url,
      @Nullable Path hostsDirectory,
      ClientCertificateRequests.@Nullable Unanswered unanswered) {
    String host = RegistryEndpoint.authorityOf(url);
    @Nullable Path file =
        hostsDirectory == null ? null : HostsDirectory.hostsFile(hostsDirectory, registry);
    if (RetryPolicy.isPlainHttpResponse(failure)) {
      return host
          + " responded without TLS and may serve plain HTTP only; pass --plain-http to jsoci"
          + (file == null ? "" : ", or set server = \"http://" + host + "\" in " + file);
    }
    CertificateException validity =
        cause(failure, CertificateExpiredException.class, CertificateNotYetValidException.class);
    if (validity != null) {
      return "the TLS certificate of "
          + host
          + " is not valid at this time ("
          + validity.getMessage()
          + "); renew it, or check this machine's clock";
    }
    CertificateException certificate = cause(failure, CertificateException.class);
    if (certificate != null) {
      return "the TLS certificate of "
          + host
          + " is not signed by an authority this machine trusts ("
          + certificate.getMessage()
          + "); "
          + (file == null
              ? "add the authority's certificate to the system trust store, or name it with ca ="
                  + " \"/path/to/ca.crt\" in a hosts.toml under a hosts directory"
              : "name the authority's certificate with ca = \"/path/to/ca.crt\" in "
                  + file
                  + ", or add it to the system trust store");
    }
    if (failure instanceof SSLPeerUnverifiedException) {
      return "the TLS certificate of "
          + host
          + " is not issued for the name "
          + url.host()
          + " ("
          + oneLine(failure.getMessage())
          + "); use a name that the certificate lists"
          + (file == null ? "" : ", or set skip_verify = true in " + file + " for a test registry");
    }
    // A server that requires the certificate closes the connection once the handshake is over,
    // which the client sees as a broken pipe, a reset or a shut-down HTTP/2 connection. A timeout
    // has other causes.
    String where = file == null ? "its hosts.toml under a hosts directory" : file.toString();
    if (unanswered == ClientCertificateRequests.Unanswered.NONE_CONFIGURED
        && !(failure instanceof InterruptedIOException)) {
      return host
          + " asked for a TLS client certificate and none is configured for it, then closed the"
          + " connection ("
          + failure
          + "); set client = [[\"/path/to/client.crt\", \"/path/to/client.key\"]] in "
          + where;
    }
    if (unanswered == ClientCertificateRequests.Unanswered.NONE_ACCEPTED
        && !(failure instanceof InterruptedIOException)) {
      return host
          + " asked for a TLS client certificate issued by an authority it trusts, and none of"
          + " the client certificates in "
          + where
          + " is, so it got none and closed the connection ("
          + failure
          + "); configure a certificate that the registry's client CA issued";
    }
    String alert = clientCertificateAlert(failure);
    if (alert != null) {
      return host
          + " did not accept the TLS client certificate (alert "
          + alert
          + "); check the client setting"
          + (file == null ? "" : " in " + file)
          + " and that the registry trusts the certificate's authority";
    }
    return null;
  }

  /** Returns {@code text} with each line break and the spaces around it as one space. */
  private static String oneLine(@Nullable String text) {
    return text == null ? "" : text.strip().replaceAll("\\s*\\R\\s*", " ");
  }

  /** Returns the first exception in the cause chain of {@code failure} of one of the types. */
  @SafeVarargs
  private static @Nullable CertificateException cause(
      Throwable failure, Class<? extends CertificateException>... types) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      for (Class<? extends CertificateException> type : types) {
        if (type.isInstance(cause)) {
          return (CertificateException) cause;
        }
      }
    }
    return null;
  }

  private static @Nullable String clientCertificateAlert(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      String message = cause.getMessage();
      if (cause instanceof SSLException && message != null) {
        for (String alert : CLIENT_CERTIFICATE_ALERTS) {
          if (message.contains("Received fatal alert: " + alert)) {
            return alert;
          }
        }
      }
    }
    return null;
  }
}
