package dev.jsoci.snapshotter.grpc;

import com.google.protobuf.Empty;
import dev.jsoci.snapshotter.Snapshotter;
import dev.jsoci.snapshotter.errdefs.AlreadyExistsException;
import dev.jsoci.snapshotter.errdefs.SnapshotException;
import dev.jsoci.snapshotter.grpc.api.snapshots.CleanupRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.CommitSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.ListSnapshotsRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.ListSnapshotsResponse;
import dev.jsoci.snapshotter.grpc.api.snapshots.MountsRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.MountsResponse;
import dev.jsoci.snapshotter.grpc.api.snapshots.PrepareSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.PrepareSnapshotResponse;
import dev.jsoci.snapshotter.grpc.api.snapshots.RemoveSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.SnapshotsGrpc;
import dev.jsoci.snapshotter.grpc.api.snapshots.StatSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.StatSnapshotResponse;
import dev.jsoci.snapshotter.grpc.api.snapshots.UpdateSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.UpdateSnapshotResponse;
import dev.jsoci.snapshotter.grpc.api.snapshots.UsageRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.UsageResponse;
import dev.jsoci.snapshotter.grpc.api.snapshots.ViewSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.ViewSnapshotResponse;
import dev.jsoci.snapshotter.metadata.SnapshotInfo;
import dev.jsoci.snapshotter.metadata.Usage;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * containerd's {@code containerd.services.snapshots.v1.Snapshots} service over a {@link
 * Snapshotter}. Snapshot errors become the status codes containerd decodes; any other failure is
 * logged and returned as {@code UNKNOWN}.
 */
public final class SnapshotsService extends SnapshotsGrpc.SnapshotsImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotsService.class);

  /** containerd's own server sends at most this many snapshots in one List response. */
  static final int LIST_BATCH_SIZE = 100;

  private final Snapshotter snapshotter;

  public SnapshotsService(Snapshotter snapshotter) {
    this.snapshotter = snapshotter;
  }

  @Override
  public void prepare(
      PrepareSnapshotRequest request, StreamObserver<PrepareSnapshotResponse> observer) {
    unary(
        "Prepare",
        request.getKey(),
        observer,
        () ->
            PrepareSnapshotResponse.newBuilder()
                .addAllMounts(
                    Protos.toProto(
                        snapshotter.prepare(
                            Namespaces.current(),
                            request.getKey(),
                            request.getParent(),
                            request.getLabelsMap())))
                .build());
  }

  @Override
  public void view(ViewSnapshotRequest request, StreamObserver<ViewSnapshotResponse> observer) {
    unary(
        "View",
        request.getKey(),
        observer,
        () ->
            ViewSnapshotResponse.newBuilder()
                .addAllMounts(
                    Protos.toProto(
                        snapshotter.view(
                            request.getKey(), request.getParent(), request.getLabelsMap())))
                .build());
  }

  @Override
  public void mounts(MountsRequest request, StreamObserver<MountsResponse> observer) {
    unary(
        "Mounts",
        request.getKey(),
        observer,
        () ->
            MountsResponse.newBuilder()
                .addAllMounts(Protos.toProto(snapshotter.mounts(request.getKey())))
                .build());
  }

  @Override
  public void commit(CommitSnapshotRequest request, StreamObserver<Empty> observer) {
    unary(
        "Commit",
        request.getKey(),
        observer,
        () -> {
          snapshotter.commit(
              request.getName(), request.getKey(), request.getLabelsMap(), request.getParent());
          return Empty.getDefaultInstance();
        });
  }

  @Override
  public void remove(RemoveSnapshotRequest request, StreamObserver<Empty> observer) {
    unary(
        "Remove",
        request.getKey(),
        observer,
        () -> {
          snapshotter.remove(request.getKey());
          return Empty.getDefaultInstance();
        });
  }

  @Override
  public void stat(StatSnapshotRequest request, StreamObserver<StatSnapshotResponse> observer) {
    unary(
        "Stat",
        request.getKey(),
        observer,
        () ->
            StatSnapshotResponse.newBuilder()
                .setInfo(Protos.toProto(snapshotter.stat(request.getKey())))
                .build());
  }

  @Override
  public void update(
      UpdateSnapshotRequest request, StreamObserver<UpdateSnapshotResponse> observer) {
    unary(
        "Update",
        request.getInfo().getName(),
        observer,
        () -> {
          SnapshotInfo updated =
              snapshotter.update(
                  Protos.fromProto(request.getInfo()), request.getUpdateMask().getPathsList());
          return UpdateSnapshotResponse.newBuilder().setInfo(Protos.toProto(updated)).build();
        });
  }

  @Override
  public void list(ListSnapshotsRequest request, StreamObserver<ListSnapshotsResponse> observer) {
    List<SnapshotInfo> infos;
    try {
      infos = snapshotter.list(request.getFiltersList());
    } catch (SnapshotException | IOException | RuntimeException e) {
      fail("List", String.join(" | ", request.getFiltersList()), observer, e);
      return;
    }
    for (int start = 0; start < infos.size(); start += LIST_BATCH_SIZE) {
      ListSnapshotsResponse.Builder batch = ListSnapshotsResponse.newBuilder();
      for (SnapshotInfo info :
          infos.subList(start, Math.min(infos.size(), start + LIST_BATCH_SIZE))) {
        batch.addInfo(Protos.toProto(info));
      }
      observer.onNext(batch.build());
    }
    observer.onCompleted();
  }

  @Override
  public void usage(UsageRequest request, StreamObserver<UsageResponse> observer) {
    unary(
        "Usage",
        request.getKey(),
        observer,
        () -> {
          Usage usage = snapshotter.usage(request.getKey());
          return UsageResponse.newBuilder()
              .setSize(usage.sizeBytes())
              .setInodes(usage.inodes())
              .build();
        });
  }

  @Override
  public void cleanup(CleanupRequest request, StreamObserver<Empty> observer) {
    unary(
        "Cleanup",
        "",
        observer,
        () -> {
          snapshotter.cleanup();
          return Empty.getDefaultInstance();
        });
  }

  /** The work of a unary call. */
  @FunctionalInterface
  private interface Call<T> {
    T run() throws SnapshotException, IOException;
  }

  private static <T> void unary(String op, String key, StreamObserver<T> observer, Call<T> call) {
    T response;
    try {
      response = call.run();
    } catch (SnapshotException | IOException | RuntimeException e) {
      fail(op, key, observer, e);
      return;
    }
    LOG.atDebug().addKeyValue("op", op).addKeyValue("key", key).log("call succeeded");
    observer.onNext(response);
    observer.onCompleted();
  }

  private static void fail(String op, String key, StreamObserver<?> observer, Exception e) {
    if (e instanceof SnapshotException snapshotError) {
      // Expected results, such as ALREADY_EXISTS for a layer mounted remotely.
      LOG.atDebug()
          .addKeyValue("op", op)
          .addKeyValue("key", key)
          .addKeyValue("error", e.getMessage())
          .log(
              e instanceof AlreadyExistsException ? "call answered already exists" : "call failed");
      observer.onError(Statuses.of(snapshotError).asRuntimeException());
      return;
    }
    LOG.atError()
        .addKeyValue("op", op)
        .addKeyValue("key", key)
        .setCause(e)
        .log("call failed: " + e.getMessage());
    observer.onError(
        Status.UNKNOWN
            .withDescription(op + " " + key + ": " + e.getMessage())
            .withCause(e)
            .asRuntimeException());
  }
}
