package dev.jsoci.snapshotter.grpc;

import com.google.protobuf.Timestamp;
import dev.jsoci.snapshotter.Mount;
import dev.jsoci.snapshotter.grpc.api.snapshots.Info;
import dev.jsoci.snapshotter.metadata.Kind;
import dev.jsoci.snapshotter.metadata.SnapshotInfo;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Converts between the service's protobuf messages and the snapshotter's records. */
final class Protos {
  private Protos() {}

  static Info toProto(SnapshotInfo info) {
    return Info.newBuilder()
        .setName(info.name())
        .setParent(info.parent())
        .setKind(toProto(info.kind()))
        .setCreatedAt(toProto(info.createdAt()))
        .setUpdatedAt(toProto(info.updatedAt()))
        .putAllLabels(info.labels())
        .build();
  }

  /**
   * Reads the fields of an Update request's {@code Info} that an update may use; the kind and times
   * there are ignored, because they never change.
   */
  static SnapshotInfo fromProto(Info info) {
    return new SnapshotInfo(
        info.getName(),
        info.getParent(),
        Kind.ACTIVE,
        Instant.EPOCH,
        Instant.EPOCH,
        info.getLabelsMap());
  }

  static List<dev.jsoci.snapshotter.grpc.api.types.Mount> toProto(List<Mount> mounts) {
    List<dev.jsoci.snapshotter.grpc.api.types.Mount> result = new ArrayList<>(mounts.size());
    for (Mount mount : mounts) {
      result.add(
          dev.jsoci.snapshotter.grpc.api.types.Mount.newBuilder()
              .setType(mount.type())
              .setSource(mount.source())
              .addAllOptions(mount.options())
              .build());
    }
    return result;
  }

  private static dev.jsoci.snapshotter.grpc.api.snapshots.Kind toProto(Kind kind) {
    return switch (kind) {
      case VIEW -> dev.jsoci.snapshotter.grpc.api.snapshots.Kind.VIEW;
      case ACTIVE -> dev.jsoci.snapshotter.grpc.api.snapshots.Kind.ACTIVE;
      case COMMITTED -> dev.jsoci.snapshotter.grpc.api.snapshots.Kind.COMMITTED;
    };
  }

  private static Timestamp toProto(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }
}
