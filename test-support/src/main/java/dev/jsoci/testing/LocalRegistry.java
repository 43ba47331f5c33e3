package dev.jsoci.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
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
 * <p>Warning: always close it, for example with try-with-resources or an {@code @AfterAll}
 * method, or the registry process outlives the test JVM.
 */
public final class LocalRegistry implements AutoCloseable {
  private static final Path BINARY = Path.of("/usr/bin/docker-registry");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

  private final Process process;
  private final Path directory;
  private final int port;

  private LocalRegistry(Process process, Path directory, int port) {
    this.process = process;
    this.directory = directory;
    this.port = port;
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
    if (htpasswd != null) {
      config.append("auth:\n  htpasswd:\n    realm: jsoci-test\n    path: ").append(htpasswd);
      config.append('\n');
    }
    Path configFile = directory.resolve("config.yml");
    Files.writeString(configFile, config, StandardCharsets.UTF_8);

    Process process =
        new ProcessBuilder(BINARY.toString(), "serve", configFile.toString())
            .redirectErrorStream(true)
            .redirectOutput(directory.resolve("registry.log").toFile())
            .start();
    LocalRegistry registry = new LocalRegistry(process, directory, port);
    try {
      registry.awaitReady();
    } catch (IOException | RuntimeException e) {
      registry.close();
      throw e;
    }
    return registry;
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
        throw new IOException("docker-registry exited with status " + process.exitValue()
            + "; see " + directory.resolve("registry.log"));
      }
      try {
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
    throw new IOException("docker-registry did not answer on port " + port + " within "
        + START_TIMEOUT.toSeconds() + " s");
  }

  /** Returns {@code 127.0.0.1:PORT}, the host part of image references on this registry. */
  public String host() {
    return "127.0.0.1:" + port;
  }

  /** Returns {@code http://127.0.0.1:PORT}. */
  public String url() {
    return "http://" + host();
  }

  public int port() {
    return port;
  }

  /** Stops the registry process it started and deletes its storage. */
  @Override
  public void close() {
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
