package dev.jsoci.snapshotter.grpc;

import dev.jsoci.snapshotter.grpc.api.snapshots.Info;
import dev.jsoci.snapshotter.grpc.api.snapshots.ListSnapshotsRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.ListSnapshotsResponse;
import dev.jsoci.snapshotter.grpc.api.snapshots.SnapshotsGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A small client of the Snapshots service on a unix socket, for health checks and for {@code jsoci
 * rpull}'s report.
 */
public final class SnapshotsClient implements AutoCloseable {
  private final ManagedChannel channel;

  private SnapshotsClient(ManagedChannel channel) {
    this.channel = channel;
  }

  /** Opens a channel to {@code unix://socket}; it connects on the first call. */
  public static SnapshotsClient connect(Path socket) {
    return new SnapshotsClient(
        Grpc.newChannelBuilder(
                "unix://" + socket.toAbsolutePath(), InsecureChannelCredentials.create())
            .build());
  }

  /**
   * Lists all snapshots and returns how many there are. Waits for the connection up to {@code
   * timeout}.
   *
   * @throws IOException carrying the gRPC status when the call fails
   */
  public int listAll(Duration timeout) throws IOException {
    try {
      Iterator<ListSnapshotsResponse> responses =
          SnapshotsGrpc.newBlockingStub(channel)
              .withWaitForReady()
              .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .list(ListSnapshotsRequest.getDefaultInstance());
      int count = 0;
      while (responses.hasNext()) {
        count += responses.next().getInfoCount();
      }
      return count;
    } catch (StatusRuntimeException e) {
      throw new IOException(e.getStatus().toString(), e);
    }
  }

  /** A snapshot's name, as the daemon stores it, and its labels. */
  public record SnapshotInfo(String name, Map<String, String> labels) {
    public SnapshotInfo {
      labels = Map.copyOf(labels);
    }
  }

  /**
   * Returns the name and labels of every snapshot that matches {@code filter}, a containerd filter
   * such as {@code labels."containerd.io/snapshot/remote"}. Waits for the connection up to {@code
   * timeout}.
   *
   * @throws IOException carrying the gRPC status when the call fails
   */
  public List<SnapshotInfo> list(String filter, Duration timeout) throws IOException {
    try {
      Iterator<ListSnapshotsResponse> responses =
          SnapshotsGrpc.newBlockingStub(channel)
              .withWaitForReady()
              .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .list(ListSnapshotsRequest.newBuilder().addFilters(filter).build());
      List<SnapshotInfo> snapshots = new ArrayList<>();
      while (responses.hasNext()) {
        for (Info info : responses.next().getInfoList()) {
          snapshots.add(new SnapshotInfo(info.getName(), info.getLabelsMap()));
        }
      }
      return snapshots;
    } catch (StatusRuntimeException e) {
      throw new IOException(e.getStatus().toString(), e);
    }
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
