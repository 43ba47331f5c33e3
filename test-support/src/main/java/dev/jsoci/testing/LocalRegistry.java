package dev.jsoci.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A Distribution registry (Debian's {@code docker-registry}) on 127.0.0.1, with its storage in a
 * temporary directory that {@link #close()} removes together with the process.
 *
 * <p>It can be stopped and started again on the same port and storage, and paused, to make the
 * registry unreachable or unresponsive for a while.
 *
 * <p>Warning: always close it, for example with try-with-resources or an {@code @AfterAll} method,
 * or the registry process outlives the test JVM.
 */
public final class LocalRegistry implements AutoCloseable {
  private static final Path BINARY = Path.of("/usr/bin/docker-registry");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

  private Process process;
  private final Path directory;
  private final int port;
  private final boolean tls;

  private LocalRegistry(Process process, Path directory, int port, boolean tls) {
    this.process = process;
    this.directory = directory;
    this.port = port;
    this.tls = tls;
  }

  /** Returns whether the registry binary is installed, for test assumptions. */
  public static boolean isInstalled() {
    return Files.isExecutable(BINARY);
  }

  /**
   * Starts a registry on a free loopback port and waits until it responds to {@code GET /v2/}.
   *
   * @param htpasswd an htpasswd file (bcrypt entries) that turns on Basic authentication, or null
   * @throws IOException if the binary is missing or the registry does not respond within 20 s
   */
  public static LocalRegistry start(Path htpasswd) throws IOException {
    return start(htpasswd, "");
  }

  /**
   * Starts a registry that serves HTTPS only, as {@link #start} does otherwise.
   *
   * @param certificate the server's PEM certificate, which must name 127.0.0.1
   * @param key the server's PEM private key
   * @param clientCa a PEM certificate of the authority whose client certificates the registry
   *     requires, or null to require none
   * @throws IOException if the binary is missing or the registry does not accept connections within
   *     20 s
   */
  public static LocalRegistry startTls(Path certificate, Path key, Path clientCa)
      throws IOException {
    StringBuilder tls = new StringBuilder("  tls:\n");
    tls.append("    certificate: ").append(certificate).append('\n');
    tls.append("    key: ").append(key).append('\n');
    if (clientCa != null) {
      tls.append("    clientcas:\n      - ").append(clientCa).append('\n');
    }
    return start(null, tls.toString());
  }

  /** Starts a registry with {@code httpSettings} added to the {@code http} section. */
  private static LocalRegistry start(Path htpasswd, String httpSettings) throws IOException {
    if (!isInstalled()) {
      throw new IOException(BINARY + " is missing; install the Debian package docker-registry");
    }
    Path directory = Files.createTempDirectory("jsoci-registry-");
    int port = freePort();
    StringBuilder config = new StringBuilder();
    config.append("version: 0.1\n");
    config.append("log:\n  level: warn\n  accesslog:\n    disabled: true\n");
    config.append("storage:\n  filesystem:\n    rootdirectory: ").append(directory.resolve("data"));
    config.append("\n  delete:\n    enabled: true\n");
    config.append("http:\n  addr: 127.0.0.1:").append(port).append('\n');
    config.append(httpSettings);
    if (htpasswd != null) {
      config.append("auth:\n  htpasswd:\n    realm: jsoci-test\n    path: ").append(htpasswd);
      config.append('\n');
    }
    Path configFile = directory.resolve("config.yml");
    Files.writeString(configFile, config, StandardCharsets.UTF_8);

    LocalRegistry registry =
        new LocalRegistry(launch(directory), directory, port, !httpSettings.isEmpty());
    try {
      registry.awaitReady();
    } catch (IOException | RuntimeException e) {
      registry.close();
      throw e;
    }
    return registry;
  }

  private static Process launch(Path directory) throws IOException {
    return new ProcessBuilder(
            BINARY.toString(), "serve", directory.resolve("config.yml").toString())
        .redirectErrorStream(true)
        .redirectOutput(
            ProcessBuilder.Redirect.appendTo(directory.resolve("registry.log").toFile()))
        .start();
  }

  /**
   * Stops the registry process and keeps its storage, so that connections to its port are refused
   * until {@link #restart()}.
   */
  public void stop() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Starts the registry again on the same port and storage after {@link #stop()}, and waits until
   * it responds.
   *
   * @throws IOException if it does not respond within 20 s, for example because another process
   *     took the port meanwhile
   */
  public void restart() throws IOException {
    if (process.isAlive()) {
      throw new IllegalStateException("the registry on port " + port + " is still running");
    }
    process = launch(directory);
    awaitReady();
  }

  /**
   * Stops the registry process with SIGSTOP: the kernel still accepts connections on its port, but
   * no request gets a response until {@link #resume()}.
   */
  public void pause() throws IOException {
    signal("STOP");
  }

  /** Continues the registry process after {@link #pause()} with SIGCONT. */
  public void resume() throws IOException {
    signal("CONT");
  }

  private void signal(String name) throws IOException {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
              .redirectErrorStream(true)
              .start();
      String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (kill.waitFor() != 0) {
        throw new IOException("kill -" + name + " " + process.pid() + " failed: " + output);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while sending SIG" + name + " to the registry", e);
    }
  }

  /**
   * Returns the file in which the registry stores the blob {@code sha256:HEX}; tests change it to
   * make the registry serve wrong bytes.
   */
  public Path blobFile(String digest) {
    if (!digest.startsWith("sha256:") || digest.length() != 7 + 64) {
      throw new IllegalArgumentException("expected a sha256 digest, found " + digest);
    }
    String hex = digest.substring(7);
    return directory
        .resolve("data/docker/registry/v2/blobs/sha256")
        .resolve(hex.substring(0, 2))
        .resolve(hex)
        .resolve("data");
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private void awaitReady() throws IOException {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(
            "docker-registry exited with status "
                + process.exitValue()
                + "; see "
                + directory.resolve("registry.log"));
      }
      try {
        if (tls) {
          // Its certificate is the test's own, so an accepted connection is as far as this goes.
          try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            return;
          }
        }
        HttpURLConnection connection =
            (HttpURLConnection) URI.create(url() + "/v2/").toURL().openConnection();
        connection.setConnectTimeout(500);
        connection.setReadTimeout(1000);
        int status = connection.getResponseCode();
        connection.disconnect();
        if (status == 200 || status == 401) {
          return;
        }
      } catch (IOException notYet) {
        // The registry is still starting.
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for docker-registry", e);
      }
    }
    throw new IOException(
        "docker-registry did not respond on port "
            + port
            + " within "
            + START_TIMEOUT.toSeconds()
            + " s");
  }

  /** Returns {@code 127.0.0.1:PORT}, the host part of image references on this registry. */
  public String host() {
    return "127.0.0.1:" + port;
  }

  /** Returns {@code http://127.0.0.1:PORT}, or {@code https://127.0.0.1:PORT} with TLS. */
  public String url() {
    return (tls ? "https://" : "http://") + host();
  }

  public int port() {
    return port;
  }

  /** Stops the registry process it started and deletes its storage. */
  @Override
  public void close() {
    if (process.isAlive()) {
      // A paused registry handles SIGTERM only after SIGCONT.
      try {
        resume();
      } catch (IOException e) {
        // destroyForcibly below stops it anyway.
      }
    }
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    deleteRecursively(directory);
  }

  private static void deleteRecursively(Path directory) {
    try (Stream<Path> paths = Files.walk(directory)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + directory, e);
    }
  }
}
