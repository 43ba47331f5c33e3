package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fetcher.registry.MockRegistry.response;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.testing.LocalRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS settings from hosts.toml against an HTTPS MockWebServer whose certificates the JDK's keytool
 * makes: {@code ca}, {@code skip_verify} and {@code client} with PKCS#8 and PKCS#1 keys.
 */
class TlsTest {
  private static final char[] PASSWORD = "changeit".toCharArray();
  private static final String MANIFEST =
      "{\"schemaVersion\":2,\"config\":{\"mediaType\":\""
          + MediaType.OCI_CONFIG
          + "\",\"digest\":\""
          + Digest.sha256Of(new byte[0])
          + "\",\"size\":0}}";

  @TempDir static Path directory;
  private static KeyStore serverKeys;
  private static KeyStore clientKeys;
  private MockWebServer server;
  private String host;

  @BeforeAll
  static void makeCertificates() throws Exception {
    serverKeys = generate("server", "CN=127.0.0.1", "SAN=ip:127.0.0.1");
    clientKeys = generate("client", "CN=jsoci-test-client", null);
    KeyStore otherKeys = generate("other", "CN=jsoci-other-client", null);
    writeCertificateAndKey(serverKeys, "server", "server-ca.pem", "server.key");
    writeCertificateAndKey(otherKeys, "other", "other.pem", "other.key");
    writePem(
        directory.resolve("client.pem"),
        "CERTIFICATE",
        certificate(clientKeys, "client").getEncoded());
    byte[] pkcs8 = privateKey(clientKeys, "client").getEncoded();
    writePem(directory.resolve("client-pkcs8.key"), "PRIVATE KEY", pkcs8);
    writePem(directory.resolve("client-pkcs1.key"), "RSA PRIVATE KEY", pkcs1Of(pkcs8));
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  /**
   * Starts an HTTPS server with the server key; {@code requireClient} requires a client
   * certificate.
   */
  private void startServer(boolean requireClient) throws Exception {
    server = new MockWebServer();
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(serverKeys, PASSWORD);
    TrustManagerFactory trust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("client", certificate(clientKeys, "client"));
    trust.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
    server.useHttps(context.getSocketFactory());
    if (requireClient) {
      server.requireClientAuth();
    }
    server.enqueue(response(200, MANIFEST, "Content-Type", MediaType.OCI_MANIFEST));
    server.start(InetAddress.getByName("127.0.0.1"), 0);
    host = "127.0.0.1:" + server.getPort();
  }

  /** Writes the server's hosts.toml with {@code hostSettings} and returns the hosts directory. */
  private Path writeHosts(String hostSettings) throws IOException {
    Path file = directory.resolve("certs.d").resolve(host).resolve("hosts.toml");
    Files.createDirectories(file.getParent());
    Files.writeString(file, "server = \"https://" + host + "\"\n" + hostSettings);
    return directory.resolve("certs.d");
  }

  private RegistryClient clientWith(String hostSettings) throws IOException {
    return RegistryClient.create(
        RegistryOptions.builder()
            .hostsDirectory(writeHosts(hostSettings))
            .credentials(CredentialStore.ANONYMOUS)
            .maxRetries(2)
            .build());
  }

  @Test
  void fetchManifest_caFromHostsToml() throws Exception {
    startServer(false);

    try (RegistryClient client =
        clientWith("ca = \"" + directory.resolve("server-ca.pem") + "\"\n")) {
      ManifestContent content = client.fetchManifest(ImageRef.parse(host + "/app:1"));
      assertThat(content.descriptor().size()).isEqualTo(MANIFEST.length());
    }
  }

  @Test
  void fetchManifest_missingCaFile_failsAtOnce() throws Exception {
    startServer(false);
    Path missing = directory.resolve("missing-ca.pem");
    List<Duration> retries = new CopyOnWriteArrayList<>();

    IOException e;
    try (RegistryClient client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(writeHosts("ca = \"" + missing + "\"\n"))
                .credentials(CredentialStore.ANONYMOUS)
                .maxRetries(2)
                .listener(
                    new RegistryListener() {
                      @Override
                      public void retryScheduled(
                          String registry, String host, String method, Duration delay) {
                        retries.add(delay);
                      }
                    })
                .build())) {
      e =
          assertThrows(
              IOException.class, () -> client.fetchManifest(ImageRef.parse(host + "/app:1")));
    }

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "cannot read "
                + missing
                + ", the ca file of a registry host: no such file; fix ca in the host's"
                + " hosts.toml");
    assertThat(retries).isEmpty();
    assertThat(server.getRequestCount()).isEqualTo(0);
  }

  @Test
  void fetchManifest_unknownCa() throws Exception {
    startServer(false);

    try (RegistryClient client = clientWith("")) {
      RegistryException e =
          assertThrows(
              RegistryException.class, () -> client.fetchManifest(ImageRef.parse(host + "/app:1")));
      assertThat(e)
          .hasMessageThat()
          .startsWith(
              "GET https://"
                  + host
                  + "/v2/app/manifests/1 failed: the TLS certificate of "
                  + host
                  + " is not signed by an authority this machine trusts (PKIX path building"
                  + " failed: ");
      assertThat(e)
          .hasMessageThat()
          .endsWith(
              "); name the authority's certificate with ca = \"/path/to/ca.crt\" in "
                  + directory.resolve("certs.d").resolve(host).resolve("hosts.toml")
                  + ", or add it to the system trust store");
    }
  }

  @Test
  void fetchManifest_registryRequiringClientCertificate() throws Exception {
    assumeTrue(
        LocalRegistry.isInstalled(),
        "docker-registry is not installed; install the Debian package docker-registry");
    try (LocalRegistry registry =
        LocalRegistry.startTls(
            directory.resolve("server-ca.pem"),
            directory.resolve("server.key"),
            directory.resolve("client.pem"))) {
      host = registry.host();
      String ca = "ca = \"" + directory.resolve("server-ca.pem") + "\"\n";
      Path hostsFile = directory.resolve("certs.d").resolve(host).resolve("hosts.toml");

      RegistryException none = fetchFailure(ca);
      assertThat(none)
          .hasMessageThat()
          .startsWith(
              "GET https://"
                  + host
                  + "/v2/app/manifests/1 failed: "
                  + host
                  + " asked for a TLS client certificate and none is configured for it, then"
                  + " closed the connection (");
      assertThat(none)
          .hasMessageThat()
          .endsWith(
              "); set client = [[\"/path/to/client.crt\", \"/path/to/client.key\"]] in "
                  + hostsFile);

      RegistryException other = fetchFailure(ca + clientSetting("other.pem", "other.key"));
      assertThat(other)
          .hasMessageThat()
          .contains(
              host
                  + " asked for a TLS client certificate issued by an authority it trusts, and none"
                  + " of the client certificates in "
                  + hostsFile
                  + " is, so it got none");

      // With the certificate it asked for, the request reaches the registry.
      try (RegistryClient client =
          clientWith(ca + clientSetting("client.pem", "client-pkcs8.key"))) {
        assertThrows(
            ManifestNotFoundException.class,
            () -> client.fetchManifest(ImageRef.parse(host + "/app:1")));
      }
    }
  }

  @Test
  void fetchManifest_mismatchedClientKey() throws Exception {
    startServer(true);

    TlsFilesException e;
    try (RegistryClient client =
        clientWith(
            "ca = \""
                + directory.resolve("server-ca.pem")
                + "\"\n"
                + clientSetting("client.pem", "other.key"))) {
      e =
          assertThrows(
              TlsFilesException.class, () -> client.fetchManifest(ImageRef.parse(host + "/app:1")));
    }

    assertThat(e)
        .hasMessageThat()
        .contains(
            "the client key "
                + directory.resolve("other.key")
                + " does not belong to the certificate "
                + directory.resolve("client.pem"));
    assertThat(server.getRequestCount()).isEqualTo(0);
  }

  @Test
  void fetchManifest_expiredCertificate_saysItExpired() throws Exception {
    assumeTrue(
        LocalRegistry.isInstalled(),
        "docker-registry is not installed; install the Debian package docker-registry");
    // A chain whose root is trusted and whose server certificate was valid for 2 days from 10
    // days ago. The JDK checks no dates of a trusted root itself, so a self-signed one would pass.
    KeyStore authority = generate("expired-ca", "CN=jsoci-test-ca", "BC:c=ca:true");
    KeyStore server = generate("expired", "CN=127.0.0.1", "SAN=ip:127.0.0.1");
    writeCertificateAndKey(authority, "expired-ca", "expired-ca.pem", "expired-ca.key");
    writeCertificateAndKey(server, "expired", "expired-self.pem", "expired.key");
    keytool("-certreq", "-alias", "expired", "-keystore", "expired.p12", "-file", "expired.csr");
    keytool(
        "-gencert",
        "-alias",
        "expired-ca",
        "-keystore",
        "expired-ca.p12",
        "-infile",
        "expired.csr",
        "-outfile",
        "expired.pem",
        "-rfc",
        "-startdate",
        "-10d",
        "-validity",
        "2",
        "-ext",
        "SAN=ip:127.0.0.1");

    try (LocalRegistry registry =
        LocalRegistry.startTls(
            directory.resolve("expired.pem"), directory.resolve("expired.key"), null)) {
      host = registry.host();
      RegistryException e = fetchFailure("ca = \"" + directory.resolve("expired-ca.pem") + "\"\n");

      assertThat(e)
          .hasMessageThat()
          .contains("failed: the TLS certificate of " + host + " is not valid at this time (");
      assertThat(e).hasMessageThat().endsWith("); renew it, or check this machine's clock");
    }
  }

  @Test
  void fetchManifest_httpsOverPlainHttp() throws Exception {
    assumeTrue(
        LocalRegistry.isInstalled(),
        "docker-registry is not installed; install the Debian package docker-registry");
    try (LocalRegistry registry =
            LocalRegistry.startTls(
                directory.resolve("server-ca.pem"), directory.resolve("server.key"), null);
        RegistryClient client =
            RegistryClient.create(
                RegistryOptions.builder()
                    .hostsDirectory(null)
                    .credentials(CredentialStore.ANONYMOUS)
                    .build())) {
      host = registry.host();
      RegistryException e =
          assertThrows(
              RegistryException.class, () -> client.fetchManifest(ImageRef.parse(host + "/app:1")));

      assertThat(e).hasMessageThat().contains("GET http://" + host + "/v2/app/manifests/1");
      assertThat(e)
          .hasMessageThat()
          .endsWith(
              "returned status 400; "
                  + host
                  + " serves HTTPS only and was reached over plain HTTP; set server = \"https://"
                  + host
                  + "\" in its hosts.toml and leave out --plain-http (localhost and loopback"
                  + " registries get plain HTTP unless their hosts.toml says otherwise)");
    }
  }

  /** Returns the failure of one manifest request with {@code hostSettings}, counting no retry. */
  private RegistryException fetchFailure(String hostSettings) throws IOException {
    AtomicInteger retries = new AtomicInteger();
    try (RegistryClient client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(writeHosts(hostSettings))
                .credentials(CredentialStore.ANONYMOUS)
                .maxRetries(2)
                .listener(
                    new RegistryListener() {
                      @Override
                      public void retryScheduled(
                          String registryHost, String endpointHost, String method, Duration delay) {
                        retries.incrementAndGet();
                      }
                    })
                .build())) {
      RegistryException e =
          assertThrows(
              RegistryException.class, () -> client.fetchManifest(ImageRef.parse(host + "/app:1")));
      // The registry refuses the same way every time, so nothing is sent again.
      assertThat(retries.get()).isEqualTo(0);
      return e;
    }
  }

  private static String clientSetting(String certificate, String key) {
    return "client = [[\""
        + directory.resolve(certificate)
        + "\", \""
        + directory.resolve(key)
        + "\"]]\n";
  }

  @Test
  void fetchManifest_resolverMirrorUnknownCa() throws Exception {
    startServer(false);
    // The origin is a closed loopback port, so the mirror's failure is the one to read.
    RegistryMirror mirror = new RegistryMirror(host, false, null, "https", "");
    IOException e;
    try (RegistryClient client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(null)
                .credentials(CredentialStore.ANONYMOUS)
                .mirrors(Map.of("127.0.0.1:1", List.of(mirror)))
                .maxRetries(0)
                .build())) {
      e =
          assertThrows(
              IOException.class, () -> client.fetchManifest(ImageRef.parse("127.0.0.1:1/app:1")));
    }

    Throwable mirrorFailure = e.getSuppressed()[0];
    assertThat(mirrorFailure)
        .hasMessageThat()
        .contains("the TLS certificate of " + host + " is not signed by an authority");
    assertThat(mirrorFailure)
        .hasMessageThat()
        .endsWith(
            " ("
                + host
                + " is a [resolver] mirror of config.toml, which takes no TLS settings: configure"
                + " it as a [host.\"https://"
                + host
                + "\"] table in the hosts.toml of 127.0.0.1:1 instead)");
  }

  @Test
  void fetchManifest_plainHttpRegistry() throws Exception {
    assumeTrue(
        LocalRegistry.isInstalled(),
        "docker-registry is not installed; install the Debian package docker-registry");
    try (LocalRegistry registry = LocalRegistry.start(null)) {
      // The real registry responds to a TLS handshake with a plain HTTP 400 response.
      host = registry.host();
      AtomicInteger retries = new AtomicInteger();
      RegistryListener countRetries =
          new RegistryListener() {
            @Override
            public void retryScheduled(
                String registryHost, String endpointHost, String method, Duration delay) {
              retries.incrementAndGet();
            }
          };
      Path file = directory.resolve("certs.d").resolve(host).resolve("hosts.toml");
      Files.createDirectories(file.getParent());
      Files.writeString(file, "server = \"https://" + host + "\"\n");

      try (RegistryClient client =
          RegistryClient.create(
              RegistryOptions.builder()
                  .hostsDirectory(directory.resolve("certs.d"))
                  .credentials(CredentialStore.ANONYMOUS)
                  .maxRetries(2)
                  .listener(countRetries)
                  .build())) {
        RegistryException e =
            assertThrows(
                RegistryException.class,
                () -> client.fetchManifest(ImageRef.parse(host + "/app:1")));

        assertThat(e)
            .hasMessageThat()
            .isEqualTo(
                "GET https://"
                    + host
                    + "/v2/app/manifests/1 failed: "
                    + host
                    + " responded without TLS and may serve plain HTTP only; pass --plain-http"
                    + " to jsoci, or set server = \"http://"
                    + host
                    + "\" in "
                    + file);
      }
      assertThat(retries.get()).isEqualTo(0);
    }
  }

  @Test
  void fetchManifest_skipVerify() throws Exception {
    startServer(false);

    try (RegistryClient client = clientWith("skip_verify = true\n")) {
      client.fetchManifest(ImageRef.parse(host + "/app:1"));
    }
    assertThat(server.getRequestCount()).isEqualTo(1);
  }

  @Test
  void fetchManifest_clientCertificatePkcs8() throws Exception {
    startServer(true);

    try (RegistryClient client =
        clientWith(
            "ca = \""
                + directory.resolve("server-ca.pem")
                + "\"\nclient = [[\""
                + directory.resolve("client.pem")
                + "\", \""
                + directory.resolve("client-pkcs8.key")
                + "\"]]\n")) {
      client.fetchManifest(ImageRef.parse(host + "/app:1"));
    }

    assertThat(clientSubject(server.takeRequest())).isEqualTo("CN=jsoci-test-client");
  }

  @Test
  void fetchManifest_clientCertificatePkcs1() throws Exception {
    startServer(true);

    try (RegistryClient client =
        clientWith(
            "skip_verify = true\nclient = [[\""
                + directory.resolve("client.pem")
                + "\", \""
                + directory.resolve("client-pkcs1.key")
                + "\"]]\n")) {
      client.fetchManifest(ImageRef.parse(host + "/app:1"));
    }

    assertThat(clientSubject(server.takeRequest())).isEqualTo("CN=jsoci-test-client");
  }

  private static String clientSubject(RecordedRequest request) {
    List<Certificate> peers = request.getHandshake().peerCertificates();
    return ((X509Certificate) peers.get(0)).getSubjectX500Principal().getName();
  }

  /**
   * Generates an RSA key and a self-signed certificate, valid for 2 days, with the JDK's keytool;
   * {@code options} are added to its command line.
   */
  private static KeyStore generate(String alias, String name, String extension, String... options)
      throws Exception {
    Path store = directory.resolve(alias + ".p12");
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                alias,
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-dname",
                name,
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                new String(PASSWORD),
                "-keypass",
                new String(PASSWORD)));
    if (extension != null) {
      command.addAll(List.of("-ext", extension));
    }
    command.addAll(List.of(options));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).isEqualTo(0);
    assertThat(output).doesNotContain("error");
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keyStore.load(in, PASSWORD);
    }
    return keyStore;
  }

  private static X509Certificate certificate(KeyStore store, String alias)
      throws GeneralSecurityException {
    return (X509Certificate) store.getCertificate(alias);
  }

  private static PrivateKey privateKey(KeyStore store, String alias)
      throws GeneralSecurityException {
    return (PrivateKey) store.getKey(alias, PASSWORD);
  }

  /** Runs the JDK's keytool in the test directory with the store password. */
  private static void keytool(String... args) throws Exception {
    List<String> command =
        new java.util.ArrayList<>(
            List.of(Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
    command.addAll(List.of(args));
    command.addAll(List.of("-storepass", new String(PASSWORD)));
    Process process =
        new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).isEqualTo(0);
    assertThat(output).doesNotContain("error");
  }

  /** Writes the certificate and the PKCS#8 private key of {@code alias} as PEM files. */
  private static void writeCertificateAndKey(
      KeyStore keys, String alias, String certificateFile, String keyFile) throws Exception {
    writePem(
        directory.resolve(certificateFile), "CERTIFICATE", certificate(keys, alias).getEncoded());
    writePem(directory.resolve(keyFile), "PRIVATE KEY", privateKey(keys, alias).getEncoded());
  }

  private static void writePem(Path file, String label, byte[] der) throws IOException {
    String base64 =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    Files.writeString(
        file, "-----BEGIN " + label + "-----\n" + base64 + "\n-----END " + label + "-----\n");
  }

  /**
   * Returns the PKCS#1 RSAPrivateKey inside a PKCS#8 PrivateKeyInfo: the content of its OCTET
   * STRING, after the version and the algorithm identifier (RFC 5208 section 5).
   */
  private static byte[] pkcs1Of(byte[] pkcs8) {
    int position = 0;
    position = skipHeader(pkcs8, position); // SEQUENCE
    position += 3; // INTEGER 0
    int algorithmStart = position;
    position = skipHeader(pkcs8, position);
    position += contentLength(pkcs8, algorithmStart); // AlgorithmIdentifier content
    int octetStart = position;
    position = skipHeader(pkcs8, position);
    return Arrays.copyOfRange(pkcs8, position, position + contentLength(pkcs8, octetStart));
  }

  private static int skipHeader(byte[] der, int position) {
    int length = der[position + 1] & 0xff;
    return position + 2 + (length < 0x80 ? 0 : length & 0x7f);
  }

  private static int contentLength(byte[] der, int position) {
    int first = der[position + 1] & 0xff;
    if (first < 0x80) {
      return first;
    }
    int length = 0;
    for (int i = 0; i < (first & 0x7f); i++) {
      length = (length << 8) | (der[position + 2 + i] & 0xff);
    }
    return length;
  }
}
