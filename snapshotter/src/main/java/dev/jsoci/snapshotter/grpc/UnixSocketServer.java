package dev.jsoci.snapshotter.grpc;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A gRPC server on a unix domain socket (Netty's epoll transport), which containerd dials as a
 * proxy plugin. The socket's directory is created with mode 0700 when missing, and the socket gets
 * mode 0600. A socket file left by an earlier process is removed only when nothing accepts
 * connections on it.
 */
public final class UnixSocketServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(UnixSocketServer.class);

  /** The file-type bits of {@code st_mode} for a socket ({@code S_IFSOCK}, inode(7)). */
  private static final int SOCKET_TYPE = 0140000;

  private static final int FILE_TYPE_MASK = 0170000;

  private final Path socket;
  private final Server server;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;

  private UnixSocketServer(
      Path socket, Server server, EventLoopGroup boss, EventLoopGroup workers) {
    this.socket = socket;
    this.server = server;
    this.boss = boss;
    this.workers = workers;
  }

  /**
   * Serves {@code service} on {@code socket}; the containerd namespace of each call is available to
   * it.
   *
   * @throws IOException if another process listens on the socket, the path is not a socket, or the
   *     server cannot bind
   */
  public static UnixSocketServer start(Path socket, BindableService service) throws IOException {
    if (!Epoll.isAvailable()) {
      throw new IOException(
          "cannot serve on unix socket "
              + socket
              + ": Netty epoll is unavailable: "
              + Epoll.unavailabilityCause());
    }
    prepareSocketPath(socket);

    EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    EventLoopGroup workers = new MultiThreadIoEventLoopGroup(EpollIoHandler.newFactory());
    Server server =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(boss)
            .workerEventLoopGroup(workers)
            .addService(ServerInterceptors.intercept(service, Namespaces.interceptor()))
            .build();
    try {
      server.start();
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    } catch (IOException | RuntimeException e) {
      server.shutdownNow();
      boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw new IOException("cannot listen on unix socket " + socket + ": " + e.getMessage(), e);
    }
    return new UnixSocketServer(socket, server, boss, workers);
  }

  /** Creates the socket's directory, or removes a stale socket file from an earlier process. */
  private static void prepareSocketPath(Path socket) throws IOException {
    Path directory = socket.toAbsolutePath().getParent();
    if (!Files.isDirectory(directory)) {
      Files.createDirectories(directory);
      Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
    }
    if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    if ((mode & FILE_TYPE_MASK) != SOCKET_TYPE) {
      throw new IOException("cannot listen on " + socket + ": the path exists and is not a socket");
    }
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      throw new IOException(
          "cannot listen on " + socket + ": another process accepts connections on it");
    } catch (ConnectException e) {
      LOG.atInfo().addKeyValue("path", socket.toString()).log("removing stale socket");
      Files.delete(socket);
    }
  }

  public Path socket() {
    return socket;
  }

  /**
   * Stops accepting calls, lets running calls finish for up to {@code grace}, then cancels the rest
   * and removes the socket file. Blocks until done.
   */
  public void shutdown(Duration grace) {
    server.shutdown();
    try {
      if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        LOG.atWarn().log("calls still running after the grace period; cancelling them");
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      Thread.currentThread().interrupt();
    }
    boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      LOG.atWarn()
          .addKeyValue("path", socket.toString())
          .addKeyValue("error", e.getMessage())
          .log("cannot remove socket file");
    }
  }

  @Override
  public void close() {
    shutdown(Duration.ofSeconds(10));
  }
}
