package dev.jsoci.snapshotter.grpc;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.snapshotter.Snapshotter;
import dev.jsoci.snapshotter.SnapshotterOptions;
import dev.jsoci.snapshotter.grpc.api.snapshots.ListSnapshotsRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.PrepareSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.SnapshotsGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnixSocketServerTest {
  @TempDir Path directory;

  private Snapshotter snapshotter;

  @BeforeEach
  void open() throws IOException {
    assumeTrue(Epoll.isAvailable(), "Netty epoll is not available on this machine");
    snapshotter = Snapshotter.open(directory.resolve("root"), SnapshotterOptions.NO_REMOTE_LAYERS);
  }

  @AfterEach
  void close() throws IOException {
    if (snapshotter != null) {
      snapshotter.close();
    }
  }

  @Test
  void serves_snapshotsOverUnixSocket() throws Exception {
    Path socket = directory.resolve("run/jsoci/jsoci.sock");

    try (UnixSocketServer server =
        UnixSocketServer.start(socket, new SnapshotsService(snapshotter))) {
      ManagedChannel channel =
          Grpc.newChannelBuilder("unix://" + socket, InsecureChannelCredentials.create()).build();
      try {
        var stub = SnapshotsGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        stub.prepare(PrepareSnapshotRequest.newBuilder().setKey("k").build());
        int count = stub.list(ListSnapshotsRequest.getDefaultInstance()).next().getInfoCount();

        assertThat(count).isEqualTo(1);
        assertThat(server.socket()).isEqualTo(socket);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)))
            .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())))
            .isEqualTo("rwx------");
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    assertThat(Files.exists(socket)).isFalse();
  }

  @Test
  void start_removesStaleSocket() throws Exception {
    Path socket = directory.resolve("jsoci.sock");
    try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      stale.bind(UnixDomainSocketAddress.of(socket));
    }
    assertThat(Files.exists(socket)).isTrue();

    try (UnixSocketServer server =
            UnixSocketServer.start(socket, new SnapshotsService(snapshotter));
        SnapshotsClient client = SnapshotsClient.connect(socket)) {
      assertThat(client.listAll(Duration.ofSeconds(10))).isEqualTo(0);
    }
  }

  @Test
  void start_refusesSocketThatSomeoneListensOn() throws Exception {
    Path socket = directory.resolve("jsoci.sock");
    try (ServerSocketChannel other = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      other.bind(UnixDomainSocketAddress.of(socket));

      IOException e =
          assertThrows(
              IOException.class,
              () -> UnixSocketServer.start(socket, new SnapshotsService(snapshotter)));

      assertThat(e)
          .hasMessageThat()
          .isEqualTo("cannot listen on " + socket + ": another process accepts connections on it");
      assertThat(Files.exists(socket)).isTrue();
    }
  }

  @Test
  void start_refusesPathThatIsNotASocket() throws Exception {
    Path socket = directory.resolve("jsoci.sock");
    Files.writeString(socket, "not a socket");

    IOException e =
        assertThrows(
            IOException.class,
            () -> UnixSocketServer.start(socket, new SnapshotsService(snapshotter)));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "cannot listen on "
                + socket
                + ": the path exists and is a regular file, not a socket: remove it or choose"
                + " another address");
    assertThat(Files.readString(socket)).isEqualTo("not a socket");
  }

  @Test
  void start_refusesDirectoryAndKeepsIt() throws Exception {
    Path socket = directory.resolve("jsoci.sock");
    Files.createDirectories(socket.resolve("inside"));

    IOException e =
        assertThrows(
            IOException.class,
            () -> UnixSocketServer.start(socket, new SnapshotsService(snapshotter)));

    assertThat(e).hasMessageThat().contains("the path exists and is a directory, not a socket");
    assertThat(Files.isDirectory(socket.resolve("inside"))).isTrue();
  }

  @Test
  void start_refusesSymbolicLinkAndKeepsTarget() throws Exception {
    Path target = directory.resolve("target");
    Files.writeString(target, "kept");
    Path socket = directory.resolve("jsoci.sock");
    Files.createSymbolicLink(socket, target);

    IOException e =
        assertThrows(
            IOException.class,
            () -> UnixSocketServer.start(socket, new SnapshotsService(snapshotter)));

    assertThat(e).hasMessageThat().contains("the path exists and is a symbolic link");
    assertThat(Files.readString(target)).isEqualTo("kept");
  }

  @Test
  void lookupGroup_unknownName_namesIt() {
    IOException e =
        assertThrows(
            IOException.class, () -> UnixSocketServer.lookupGroup("jsoci-no-such-group"));

    assertThat(e).hasMessageThat().contains("socket group \"jsoci-no-such-group\" not found");
  }
}
