package dev.jsoci.fetcher.registry;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The TLS and connect settings of one registry host. Hosts with equal settings share one HTTP
 * client.
 *
 * @param skipVerify whether the server's certificate chain and host name are not checked
 * @param caFiles PEM files of extra trusted certificate authorities, added to the JDK's default
 *     trust store
 * @param clientCertificates client certificates presented to the server
 * @param connectTimeout the connect timeout for this host, or null for the client default
 * @param callTimeout the longest time one attempt at this host may take, {@link Duration#ZERO} for
 *     no limit, or null for the client default
 */
record ConnectionSetup(
    boolean skipVerify,
    List<Path> caFiles,
    List<ClientCertificate> clientCertificates,
    @Nullable Duration connectTimeout,
    @Nullable Duration callTimeout) {

  static final ConnectionSetup DEFAULT =
      new ConnectionSetup(false, List.of(), List.of(), null, null);

  ConnectionSetup {
    caFiles = List.copyOf(caFiles);
    clientCertificates = List.copyOf(clientCertificates);
  }

  /**
   * A client certificate chain and its private key.
   *
   * @param certificateFile PEM file with the certificate chain, leaf first
   * @param keyFile PEM file with the private key; the same file as {@code certificateFile} when
   *     both are in one file
   */
  record ClientCertificate(Path certificateFile, Path keyFile) {
    ClientCertificate {
      Objects.requireNonNull(certificateFile, "certificateFile");
      Objects.requireNonNull(keyFile, "keyFile");
    }
  }
}
