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
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A gRPC server on a unix domain socket (Netty's epoll transport), which containerd dials as a
 * proxy plugin.
 *
 * <p>Without a socket group, the socket gets mode 0600 and a missing directory is created with mode
 * 0700, so only the daemon's user (root) can connect. With a group, the socket gets mode 0660 and
 * that group, and a missing directory is created with mode 0710 and that group. An existing
 * directory keeps its owner and mode. A socket file left by an earlier process is removed only when
 * nothing accepts connections on it. Any other file type at the path is an error and is kept.
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
    return start(socket, service, Optional.empty());
  }

  /**
   * Serves {@code service} on {@code socket}, which members of {@code group} may connect to when
   * it is present.
   *
   * @throws IOException if another process listens on the socket, the path is not a socket, or the
   *     server cannot bind
   */
  public static UnixSocketServer start(
      Path socket, BindableService service, Optional<GroupPrincipal> group) throws IOException {
    if (!Epoll.isAvailable()) {
      throw new IOException(
          "cannot serve on unix socket "
              + socket
              + ": Netty epoll is unavailable: "
              + Epoll.unavailabilityCause());
    }
    prepareSocketPath(socket, group);

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
      // bind() created the socket with the process umask. Connecting needs write permission, so
      // before this chmod only the owner could connect under the usual umask of 022 or 077.
      // A socket cannot be opened, so the view changes it by path (chmod and chown).
      PosixFileAttributeView view =
          Files.getFileAttributeView(socket, PosixFileAttributeView.class);
      if (group.isPresent()) {
        view.setGroup(group.get());
        view.setPermissions(PosixFilePermissions.fromString("rw-rw----"));
      } else {
        view.setPermissions(PosixFilePermissions.fromString("rw-------"));
      }
    } catch (IOException | RuntimeException e) {
      server.shutdownNow();
      boss.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 0, TimeUnit.SECONDS);
      throw new IOException("cannot listen on unix socket " + socket + ": " + e.getMessage(), e);
    }
    return new UnixSocketServer(socket, server, boss, workers);
  }

  /**
   * Looks up the group named {@code nameOrGid}; a number that names no group is taken as a gid.
   *
   * @throws IOException if no group has that name
   */
  public static GroupPrincipal lookupGroup(String nameOrGid) throws IOException {
    try {
      return socketFileSystemLookup().lookupPrincipalByGroupName(nameOrGid);
    } catch (UserPrincipalNotFoundException e) {
      throw new IOException(
          "socket group \""
              + nameOrGid
              + "\" not found: create the group, or set socket_group to an existing group name"
              + " or a numeric gid",
          e);
    }
  }

  private static UserPrincipalLookupService socketFileSystemLookup() {
    return FileSystems.getDefault().getUserPrincipalLookupService();
  }

  /**
   * Fails when {@code socket} exists and is not a socket, before anything else starts. The path is
   * left as it is.
   *
   * @throws IOException if the path is a regular file, a directory, a symbolic link or another
   *     non-socket file
   */
  public static void checkSocketPath(Path socket) throws IOException {
    if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    int mode = (Integer) Files.getAttribute(socket, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    if ((mode & FILE_TYPE_MASK) != SOCKET_TYPE) {
      throw new IOException(
          "cannot listen on "
              + socket
              + ": the path exists and is "
              + describeFileType(mode)
              + ", not a socket: remove it or choose another address");
    }
  }

  private static String describeFileType(int mode) {
    switch (mode & FILE_TYPE_MASK) {
      case 0100000:
        return "a regular file";
      case 0040000:
        return "a directory";
      case 0120000:
        return "a symbolic link";
      default:
        return "a special file";
    }
  }

  /** Creates the socket's directory, or removes a stale socket file from an earlier process. */
  private static void prepareSocketPath(Path socket, Optional<GroupPrincipal> group)
      throws IOException {
    Path directory = socket.toAbsolutePath().getParent();
    if (!Files.isDirectory(directory)) {
      Files.createDirectories(directory);
      PosixFileAttributeView view =
          Files.getFileAttributeView(directory, PosixFileAttributeView.class);
      if (group.isPresent()) {
        view.setGroup(group.get());
        view.setPermissions(PosixFilePermissions.fromString("rwx--x---"));
      } else {
        view.setPermissions(PosixFilePermissions.fromString("rwx------"));
      }
    }
    checkSocketPath(socket);
    if (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
      return;
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
