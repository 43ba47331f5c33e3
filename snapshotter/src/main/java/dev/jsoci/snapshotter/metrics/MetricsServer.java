package dev.jsoci.snapshotter.metrics;

import dev.jsoci.snapshotter.DaemonThreads;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A minimal HTTP/1.1 server for Prometheus scrapes, on a TCP port or a unix domain socket.
 *
 * <p>{@code GET /metrics} returns the registry in the Prometheus text format, or in OpenMetrics
 * when the {@code Accept} header requests {@code application/openmetrics-text}. {@code HEAD} gets
 * the same headers without a body. Other paths get 404 and other methods 405. Every response
 * closes its connection, which Prometheus handles like any other.
 *
 * <p>The JDK's {@code com.sun.net.httpserver} binds only IP addresses, so this server reads
 * requests from a {@link ServerSocketChannel} itself, which serves both families. Requests are
 * answered on {@value #HANDLER_THREADS} daemon threads; a connection that has not been answered
 * within {@link #CONNECTION_DEADLINE} is closed, so a silent client holds a thread no longer than
 * that.
 */
public final class MetricsServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);

  static final String PATH = "/metrics";
  private static final int HANDLER_THREADS = 2;
  private static final int QUEUED_CONNECTIONS = 16;
  private static final Duration CONNECTION_DEADLINE = Duration.ofSeconds(10);
  private static final int MAX_REQUEST_HEAD_BYTES = 16 * 1024;

  /** The file-type bits of {@code st_mode} for a socket ({@code S_IFSOCK}, inode(7)). */
  private static final int SOCKET_TYPE = 0140000;

  private static final int FILE_TYPE_MASK = 0170000;

  private final ServerSocketChannel channel;
  private final SocketAddress address;
  private final @Nullable Path socketFile;
  private final PrometheusRegistry registry;
  private final ExpositionFormats formats = ExpositionFormats.init();
  private final ThreadPoolExecutor handlers;
  private final ScheduledExecutorService deadlines;
  private final Thread acceptor;

  private MetricsServer(
      ServerSocketChannel channel, @Nullable Path socketFile, PrometheusRegistry registry)
      throws IOException {
    this.channel = channel;
    this.address = channel.getLocalAddress();
    this.socketFile = socketFile;
    this.registry = registry;
    this.handlers =
        new ThreadPoolExecutor(
            HANDLER_THREADS,
            HANDLER_THREADS,
            0,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(QUEUED_CONNECTIONS),
            DaemonThreads.numbered("jsoci-metrics-"));
    this.deadlines =
        Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.numbered("jsoci-metrics-deadline-"));
    this.acceptor = new Thread(this::acceptLoop, "jsoci-metrics-accept");
    acceptor.setDaemon(true);
  }

  /**
   * Starts serving {@code registry} on {@code address}, a TCP address or a unix socket. For a unix
   * socket, creates the parent directory when missing, removes a socket file that nothing accepts
   * connections on, and gives the new socket mode 0660.
   *
   * @throws IOException if the address cannot be bound, another process accepts connections on the
   *     socket, or the socket path exists and is not a socket
   */
  public static MetricsServer start(SocketAddress address, PrometheusRegistry registry)
      throws IOException {
    ServerSocketChannel channel;
    Path socketFile = null;
    if (address instanceof UnixDomainSocketAddress unix) {
      socketFile = unix.getPath();
      prepareSocketPath(socketFile);
      channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    } else {
      channel = ServerSocketChannel.open();
    }
    try {
      channel.bind(address);
      if (socketFile != null) {
        Files.setPosixFilePermissions(socketFile, PosixFilePermissions.fromString("rw-rw----"));
      }
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    MetricsServer server = new MetricsServer(channel, socketFile, registry);
    server.acceptor.start();
    return server;
  }

  /** Returns the bound address, with the chosen port when the configuration gave port 0. */
  public SocketAddress address() {
    return address;
  }

  /** Creates the socket's directory, or removes a stale socket file from an earlier process. */
  private static void prepareSocketPath(Path socket) throws IOException {
    Path directory = socket.getParent();
    if (directory != null) {
      Files.createDirectories(directory);
    }
    if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    if ((mode & FILE_TYPE_MASK) != SOCKET_TYPE) {
      throw new IOException(
          socket + " exists and is not a socket; remove it or choose another path");
    }
    try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      probe.connect(UnixDomainSocketAddress.of(socket));
      throw new IOException("another process accepts connections on " + socket);
    } catch (ConnectException e) {
      LOG.atInfo().addKeyValue("path", socket.toString()).log("removing stale metrics socket");
      Files.delete(socket);
    }
  }

  private void acceptLoop() {
    while (channel.isOpen()) {
      SocketChannel connection;
      try {
        connection = channel.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        LOG.atWarn().addKeyValue("error", e.getMessage()).log("cannot accept a metrics connection");
        continue;
      }
      try {
        handlers.execute(() -> serve(connection));
      } catch (RejectedExecutionException e) {
        LOG.atDebug().log("too many metrics connections at once; closing one");
        closeQuietly(connection);
      }
    }
  }

  /** Serves one request on {@code connection} and closes it. */
  private void serve(SocketChannel connection) {
    ScheduledFuture<?> deadline =
        deadlines.schedule(
            () -> closeQuietly(connection),
            CONNECTION_DEADLINE.toMillis(),
            TimeUnit.MILLISECONDS);
    try {
      respond(connection, readRequestHead(connection));
    } catch (IOException e) {
      LOG.atDebug().addKeyValue("error", e.getMessage()).log("metrics request failed");
    } finally {
      deadline.cancel(false);
      closeQuietly(connection);
    }
  }

  /** Returns the request line and headers, or null when the head is too long or cut short. */
  private static @Nullable String readRequestHead(SocketChannel connection) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(MAX_REQUEST_HEAD_BYTES);
    while (buffer.hasRemaining()) {
      if (connection.read(buffer) < 0) {
        return null;
      }
      String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.ISO_8859_1);
      int end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        return text.substring(0, end);
      }
    }
    return null;
  }

  private void respond(SocketChannel connection, @Nullable String head) throws IOException {
    if (head == null) {
      write(connection, 400, "text/plain; charset=utf-8", "invalid request\n", true);
      return;
    }
    String[] lines = head.split("\r\n");
    String[] requestLine = lines[0].split(" ");
    if (requestLine.length != 3 || !requestLine[2].startsWith("HTTP/1.")) {
      write(connection, 400, "text/plain; charset=utf-8", "invalid request line\n", true);
      return;
    }
    String method = requestLine[0];
    String path = requestLine[1];
    int query = path.indexOf('?');
    if (query >= 0) {
      path = path.substring(0, query);
    }
    if (!path.equals(PATH)) {
      write(connection, 404, "text/plain; charset=utf-8", "metrics are at " + PATH + "\n", true);
      return;
    }
    boolean headOnly = method.equals("HEAD");
    if (!method.equals("GET") && !headOnly) {
      write(connection, 405, "text/plain; charset=utf-8", "use GET or HEAD\n", true);
      return;
    }

    ExpositionFormatWriter writer = formats.findWriter(headerValue(lines, "accept"));
    if (!writer.isAvailable()) {
      writer = formats.getPrometheusTextFormatWriter();
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream(64 * 1024);
    writer.write(body, registry.scrape());
    String text = body.toString(StandardCharsets.UTF_8);
    write(connection, 200, writer.getContentType(), text, !headOnly);
  }

  private static @Nullable String headerValue(String[] lines, String lowerCaseName) {
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon < 0) {
        continue;
      }
      String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
      if (name.equals(lowerCaseName)) {
        return lines[i].substring(colon + 1).trim();
      }
    }
    return null;
  }

  private static void write(
      SocketChannel connection, int status, String contentType, String body, boolean withBody)
      throws IOException {
    byte[] bodyBytes = body.getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 "
            + status
            + " "
            + reasonPhrase(status)
            + "\r\nContent-Type: "
            + contentType
            + "\r\nContent-Length: "
            + bodyBytes.length
            + (status == 405 ? "\r\nAllow: GET, HEAD" : "")
            + "\r\nConnection: close\r\n\r\n";
    writeFully(connection, ByteBuffer.wrap(head.getBytes(StandardCharsets.ISO_8859_1)));
    if (withBody) {
      writeFully(connection, ByteBuffer.wrap(bodyBytes));
    }
  }

  private static String reasonPhrase(int status) {
    return switch (status) {
      case 200 -> "OK";
      case 400 -> "Bad Request";
      case 404 -> "Not Found";
      case 405 -> "Method Not Allowed";
      default -> "Error";
    };
  }

  private static void writeFully(SocketChannel connection, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      connection.write(buffer);
    }
  }

  private static void closeQuietly(SocketChannel connection) {
    try {
      connection.close();
    } catch (IOException e) {
      LOG.atDebug().addKeyValue("error", e.getMessage()).log("cannot close a metrics connection");
    }
  }

  /** Stops accepting connections, ends the handler threads and removes the socket file. */
  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      LOG.atWarn().addKeyValue("error", e.getMessage()).log("cannot close the metrics listener");
    }
    handlers.shutdownNow();
    deadlines.shutdownNow();
    try {
      acceptor.join(Duration.ofSeconds(5).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (socketFile != null) {
      try {
        Files.deleteIfExists(socketFile);
      } catch (IOException e) {
        LOG.atWarn()
            .addKeyValue("path", socketFile.toString())
            .addKeyValue("error", e.getMessage())
            .log("cannot remove the metrics socket file");
      }
    }
  }
}
