package dev.jsoci.fetcher.registry;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509KeyManager;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * The HTTP clients of one {@link RegistryClient}: a base client, and one client per distinct {@link
 * ConnectionSetup}. All share one connection pool and dispatcher. Redirects are never followed by
 * OkHttp, because {@link Transport} follows them itself to drop credentials on the way to another
 * host. Thread-safe.
 */
final class HttpClients implements AutoCloseable {
  private final OkHttpClient base;
  private final Map<ConnectionSetup, OkHttpClient> clients = new ConcurrentHashMap<>();
  private final ClientCertificateRequests certificateRequests = new ClientCertificateRequests();

  HttpClients(RegistryOptions options) {
    OkHttpClient.Builder builder =
        new OkHttpClient.Builder()
            .connectTimeout(options.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .readTimeout(options.readTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .writeTimeout(options.readTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .callTimeout(options.callTimeout().toMillis(), TimeUnit.MILLISECONDS)
            .followRedirects(false)
            .followSslRedirects(false);
    try {
      X509TrustManager trustManager = defaultTrustManager(null);
      builder.sslSocketFactory(sslContext(null, trustManager).getSocketFactory(), trustManager);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK cannot set up TLS: " + e.getMessage(), e);
    }
    this.base = builder.build();
  }

  /** Returns the record of the hosts that asked for a client certificate this client lacked. */
  ClientCertificateRequests certificateRequests() {
    return certificateRequests;
  }

  /** Returns the client with the JDK's default trust and no client certificate. */
  OkHttpClient base() {
    return base;
  }

  /**
   * Returns the client for {@code setup}, building it on first use.
   *
   * @throws IOException if a CA or client certificate file cannot be read
   */
  OkHttpClient clientFor(ConnectionSetup setup) throws IOException {
    if (setup.equals(ConnectionSetup.DEFAULT)) {
      return base;
    }
    OkHttpClient client = clients.get(setup);
    if (client == null) {
      client = build(setup);
      OkHttpClient raced = clients.putIfAbsent(setup, client);
      client = raced != null ? raced : client;
    }
    return client;
  }

  private OkHttpClient build(ConnectionSetup setup) throws IOException {
    OkHttpClient.Builder builder = base.newBuilder();
    if (setup.connectTimeout() != null) {
      builder.connectTimeout(setup.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }
    if (setup.callTimeout() != null) {
      // OkHttp reads a call timeout of 0 as no limit.
      builder.callTimeout(setup.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }
    if (!setup.skipVerify() && setup.caFiles().isEmpty() && setup.clientCertificates().isEmpty()) {
      return builder.build();
    }

    try {
      X509TrustManager trustManager =
          setup.skipVerify() ? new TrustAllManager() : trustManager(setup.caFiles());
      X509KeyManager keyManager = keyManager(setup.clientCertificates());
      builder.sslSocketFactory(
          sslContext(keyManager, trustManager).getSocketFactory(), trustManager);
      if (setup.skipVerify()) {
        builder.hostnameVerifier((hostname, session) -> true);
      }
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot set up TLS for registry host: " + e.getMessage(), e);
    }
    return builder.build();
  }

  /** Returns a trust manager that accepts the JDK's default authorities and those of caFiles. */
  private static X509TrustManager trustManager(List<Path> caFiles)
      throws IOException, GeneralSecurityException {
    X509TrustManager system = defaultTrustManager(null);
    if (caFiles.isEmpty()) {
      return system;
    }
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    int index = 0;
    for (Path file : caFiles) {
      for (X509Certificate certificate : readTlsFile(file, "ca", PemFiles::readCertificates)) {
        store.setCertificateEntry("ca-" + index++, certificate);
      }
    }
    return new EitherTrustManager(defaultTrustManager(store), system);
  }

  private static X509TrustManager defaultTrustManager(@Nullable KeyStore store)
      throws GeneralSecurityException {
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(store);
    for (TrustManager manager : factory.getTrustManagers()) {
      if (manager instanceof X509TrustManager) {
        return (X509TrustManager) manager;
      }
    }
    throw new GeneralSecurityException("the JDK offers no X509TrustManager");
  }

  /**
   * Returns a TLS context that offers the client certificates of {@code keyManager}, if any, and
   * records the requests for one that it cannot fulfil.
   */
  private SSLContext sslContext(@Nullable X509KeyManager keyManager, X509TrustManager trustManager)
      throws GeneralSecurityException {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(
        new KeyManager[] {certificateRequests.recording(keyManager)},
        new TrustManager[] {trustManager},
        null);
    return context;
  }

  private static @Nullable X509KeyManager keyManager(
      List<ConnectionSetup.ClientCertificate> certificates)
      throws IOException, GeneralSecurityException {
    if (certificates.isEmpty()) {
      return null;
    }
    char[] password = new char[0];
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    int index = 0;
    for (ConnectionSetup.ClientCertificate certificate : certificates) {
      List<X509Certificate> chain =
          readTlsFile(certificate.certificateFile(), "client", PemFiles::readCertificates);
      PrivateKey key = readTlsFile(certificate.keyFile(), "client", PemFiles::readPrivateKey);
      checkKeyPair(certificate, chain.get(0), key);
      store.setKeyEntry("client-" + index++, key, password, chain.toArray(new X509Certificate[0]));
    }
    KeyManagerFactory factory =
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    factory.init(store, password);
    for (KeyManager manager : factory.getKeyManagers()) {
      if (manager instanceof X509KeyManager) {
        return (X509KeyManager) manager;
      }
    }
    throw new GeneralSecurityException("the JDK offers no X509KeyManager");
  }

  /**
   * Checks that {@code key} belongs to {@code certificate} by signing a few bytes with it, as
   * containerd checks a client pair when it loads it. A wrong pair would fail every handshake.
   *
   * @throws TlsFilesException if it does not
   */
  private static void checkKeyPair(
      ConnectionSetup.ClientCertificate files, X509Certificate certificate, PrivateKey key)
      throws TlsFilesException {
    String algorithm =
        switch (key.getAlgorithm()) {
          case "RSA" -> "SHA256withRSA";
          case "EC" -> "SHA256withECDSA";
          default -> key.getAlgorithm();
        };
    byte[] data = "jsoci client key check".getBytes(StandardCharsets.US_ASCII);
    boolean matches;
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(data);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(data);
      matches = verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      // A key of another algorithm than the certificate's cannot verify at all.
      matches = false;
    }
    if (!matches) {
      throw new TlsFilesException(
          "the client key "
              + files.keyFile()
              + " does not belong to the certificate "
              + files.certificateFile()
              + "; fix client in the host's hosts.toml so that each pair names a certificate and"
              + " its own key",
          null);
    }
  }

  /** A reader of a PEM file that a hosts.toml names. */
  @FunctionalInterface
  private interface PemReader<T> {
    T read(Path file) throws IOException;
  }

  /**
   * Reads {@code file}, the value of the hosts.toml key {@code key}, and reports a failure as a
   * {@link TlsFilesException} that names both.
   */
  private static <T> T readTlsFile(Path file, String key, PemReader<T> reader)
      throws TlsFilesException {
    try {
      return reader.read(file);
    } catch (IOException e) {
      String reason = e instanceof NoSuchFileException ? "no such file" : e.getMessage();
      throw new TlsFilesException(
          "cannot read "
              + file
              + ", the "
              + key
              + " file of a registry host: "
              + reason
              + "; fix "
              + key
              + " in the host's hosts.toml",
          e);
    }
  }

  /** Stops the dispatcher threads and closes pooled connections. */
  @Override
  public void close() {
    base.dispatcher().executorService().shutdown();
    base.connectionPool().evictAll();
  }

  /** Trusts a chain that either of two managers trusts; the custom authorities are tried first. */
  private static final class EitherTrustManager implements X509TrustManager {
    private final X509TrustManager first;
    private final X509TrustManager second;

    EitherTrustManager(X509TrustManager first, X509TrustManager second) {
      this.first = first;
      this.second = second;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      second.checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      try {
        first.checkServerTrusted(chain, authType);
      } catch (CertificateException e) {
        try {
          second.checkServerTrusted(chain, authType);
        } catch (CertificateException alsoRejected) {
          // The configured authorities give the more useful reason, such as an expired chain.
          e.addSuppressed(alsoRejected);
          throw e;
        }
      }
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      List<X509Certificate> issuers = new ArrayList<>(List.of(first.getAcceptedIssuers()));
      issuers.addAll(List.of(second.getAcceptedIssuers()));
      return issuers.toArray(new X509Certificate[0]);
    }
  }

  /** Trusts every server certificate, for hosts with {@code skip_verify = true} only. */
  private static final class TrustAllManager implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
