package dev.jsoci.snapshotter;

import dev.jsoci.snapshotter.grpc.SnapshotsClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * {@code jsoci-snapshotter --check}: calls {@code List} on a running daemon and reports whether the
 * call succeeded. Used by scripts that wait for the daemon to start.
 */
final class DaemonCheck {
  private static final Duration POLL_INTERVAL = Duration.ofMillis(5);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

  private DaemonCheck() {}

  /**
   * Waits up to {@code timeout} for {@code socket} to accept connections, then calls the daemon. On
   * success prints {@code ok: jsoci-snapshotter at <socket> answered in <n> ms, at <instant>}: the
   * duration of the List call, and the UTC time (ISO 8601) when it completed.
   *
   * @return the exit status: 0 when the call succeeded, 1 otherwise
   */
  static int run(Path socket, Duration timeout, PrintWriter out, PrintWriter err) {
    long deadline = System.nanoTime() + timeout.toNanos();
    // Poll with plain connects: a failed gRPC connection would wait out gRPC's reconnect backoff
    // (one second at first) and blur the moment the daemon starts serving.
    while (!accepts(socket)) {
      if (System.nanoTime() - deadline >= 0) {
        err.println("jsoci-snapshotter: no daemon accepts connections on " + socket);
        err.flush();
        return Daemon.EXIT_FAILURE;
      }
      try {
        Thread.sleep(POLL_INTERVAL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Daemon.EXIT_FAILURE;
      }
    }

    long callStart = System.nanoTime();
    try (SnapshotsClient client = SnapshotsClient.connect(socket)) {
      client.listAll(CALL_TIMEOUT);
    } catch (IOException e) {
      err.println(
          "jsoci-snapshotter: the daemon on " + socket + " did not answer: " + e.getMessage());
      err.flush();
      return Daemon.EXIT_FAILURE;
    }
    Instant answered = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    long callMillis = Duration.ofNanos(System.nanoTime() - callStart).toMillis();
    out.println(
        "ok: jsoci-snapshotter at " + socket + " answered in " + callMillis + " ms, at " + answered);
    out.flush();
    return 0;
  }

  private static boolean accepts(Path socket) {
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      channel.connect(UnixDomainSocketAddress.of(socket));
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
