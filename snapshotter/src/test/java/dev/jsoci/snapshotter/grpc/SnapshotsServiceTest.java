package dev.jsoci.snapshotter.grpc;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.FieldMask;
import dev.jsoci.fs.LowerLayers;
import dev.jsoci.snapshotter.RemoteLayerMounter;
import dev.jsoci.snapshotter.RemoteLayerRequest;
import dev.jsoci.snapshotter.Snapshotter;
import dev.jsoci.snapshotter.SnapshotterOptions;
import dev.jsoci.snapshotter.grpc.api.snapshots.CleanupRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.CommitSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.Info;
import dev.jsoci.snapshotter.grpc.api.snapshots.Kind;
import dev.jsoci.snapshotter.grpc.api.snapshots.ListSnapshotsRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.ListSnapshotsResponse;
import dev.jsoci.snapshotter.grpc.api.snapshots.MountsRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.PrepareSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.PrepareSnapshotResponse;
import dev.jsoci.snapshotter.grpc.api.snapshots.RemoveSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.SnapshotsGrpc;
import dev.jsoci.snapshotter.grpc.api.snapshots.SnapshotsGrpc.SnapshotsBlockingStub;
import dev.jsoci.snapshotter.grpc.api.snapshots.StatSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.UpdateSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.UsageRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.UsageResponse;
import dev.jsoci.snapshotter.grpc.api.snapshots.ViewSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.types.Mount;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

class SnapshotsServiceTest {
  private static final String CHAIN = "sha256:" + "c".repeat(64);
  private static final String LAYER = "sha256:" + "1".repeat(64);

  @TempDir Path root;

  private Snapshotter snapshotter;
  private Server server;
  private ManagedChannel channel;
  private SnapshotsBlockingStub stub;
  private final FakeMounter mounter = new FakeMounter();

  /** Records the requested layers, and fails the checks of the paths in {@code failingChecks}. */
  private static final class FakeMounter implements RemoteLayerMounter {
    final List<RemoteLayerRequest> requests = new ArrayList<>();
    final List<Path> failingChecks = new ArrayList<>();

    @Override
    public void mount(RemoteLayerRequest request, Path mountpoint, LowerLayers lowers) {
      requests.add(request);
    }

    @Override
    public void check(Path mountpoint) throws IOException {
      if (failingChecks.contains(mountpoint)) {
        throw new IOException("registry does not answer");
      }
    }

    @Override
    public void unmount(Path mountpoint) {}
  }

  private void start(SnapshotterOptions options) throws IOException {
    snapshotter = Snapshotter.open(root, options);
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(
                ServerInterceptors.intercept(
                    new SnapshotsService(snapshotter), Namespaces.interceptor()))
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    Metadata headers = new Metadata();
    headers.put(Namespaces.HEADER, "k8s.io");
    stub =
        SnapshotsGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  private void start() throws IOException {
    start(SnapshotterOptions.NO_REMOTE_LAYERS);
  }

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (snapshotter != null) {
      snapshotter.close();
    }
  }

  private String fs(long id) {
    return root.resolve("snapshotter/snapshots/" + id + "/fs").toString();
  }

  private PrepareSnapshotResponse prepare(String key, String parent) {
    return stub.prepare(
        PrepareSnapshotRequest.newBuilder()
            .setSnapshotter("jsoci")
            .setKey(key)
            .setParent(parent)
            .build());
  }

  private void commit(String name, String key) {
    stub.commit(CommitSnapshotRequest.newBuilder().setName(name).setKey(key).build());
  }

  private Info stat(String key) {
    return stub.stat(StatSnapshotRequest.newBuilder().setKey(key).build()).getInfo();
  }

  private List<Info> list(String... filters) {
    List<Info> infos = new ArrayList<>();
    Iterator<ListSnapshotsResponse> responses =
        stub.list(ListSnapshotsRequest.newBuilder().addAllFilters(List.of(filters)).build());
    responses.forEachRemaining(response -> infos.addAll(response.getInfoList()));
    return infos;
  }

  private static void assertStatus(Status.Code code, String description, Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertThat(e.getStatus().getCode()).isEqualTo(code);
    assertThat(e.getStatus().getDescription()).isEqualTo(description);
  }

  @Test
  void prepareCommitViewAndMounts() throws Exception {
    start();

    PrepareSnapshotResponse prepared = prepare("extract-1", "");
    Files.writeString(Path.of(fs(1)).resolve("hello"), "world");
    commit("layer-1", "extract-1");
    List<Mount> view =
        stub.view(ViewSnapshotRequest.newBuilder().setKey("view").setParent("layer-1").build())
            .getMountsList();
    PrepareSnapshotResponse container = prepare("container", "layer-1");
    List<Mount> mounts =
        stub.mounts(MountsRequest.newBuilder().setKey("container").build()).getMountsList();

    assertThat(prepared.getMountsList())
        .containsExactly(
            Mount.newBuilder()
                .setType("bind")
                .setSource(fs(1))
                .addOptions("rw")
                .addOptions("rbind")
                .build());
    assertThat(view)
        .containsExactly(
            Mount.newBuilder()
                .setType("bind")
                .setSource(fs(1))
                .addOptions("ro")
                .addOptions("rbind")
                .build());
    Mount overlay = container.getMounts(0);
    assertThat(overlay.getType()).isEqualTo("overlay");
    assertThat(overlay.getSource()).isEqualTo("overlay");
    assertThat(overlay.getTarget()).isEmpty();
    assertThat(overlay.getOptionsList())
        .containsAtLeast(
            "workdir=" + root.resolve("snapshotter/snapshots/3/work"),
            "upperdir=" + fs(3),
            "lowerdir=" + fs(1))
        .inOrder();
    assertThat(mounts).containsExactly(overlay);
  }

  @Test
  void stat_returnsInfo() throws Exception {
    start();
    stub.prepare(PrepareSnapshotRequest.newBuilder().setKey("k").putLabels("a", "b").build());

    Info info = stat("k");

    assertThat(info.getName()).isEqualTo("k");
    assertThat(info.getParent()).isEmpty();
    assertThat(info.getKind()).isEqualTo(Kind.ACTIVE);
    assertThat(info.getLabelsMap()).containsExactly("a", "b");
    assertThat(info.getCreatedAt().getSeconds()).isGreaterThan(0);
    assertThat(info.getUpdatedAt()).isEqualTo(info.getCreatedAt());
  }

  @Test
  void update_withFieldMask() throws Exception {
    start();
    stub.prepare(
        PrepareSnapshotRequest.newBuilder()
            .setKey("k")
            .putLabels("a", "1")
            .putLabels("b", "2")
            .build());

    Info updated =
        stub.update(
                UpdateSnapshotRequest.newBuilder()
                    .setInfo(
                        Info.newBuilder().setName("k").putLabels("a", "10").putLabels("c", "3"))
                    .setUpdateMask(FieldMask.newBuilder().addPaths("labels.a").addPaths("labels.b"))
                    .build())
            .getInfo();

    assertThat(updated.getLabelsMap()).containsExactly("a", "10");
    assertThat(stat("k").getLabelsMap()).containsExactly("a", "10");
    assertStatus(
        Status.Code.INVALID_ARGUMENT,
        "cannot update \"kind\" field on snapshot \"k\": invalid argument",
        () ->
            stub.update(
                UpdateSnapshotRequest.newBuilder()
                    .setInfo(Info.newBuilder().setName("k"))
                    .setUpdateMask(FieldMask.newBuilder().addPaths("kind"))
                    .build()));
    assertStatus(
        Status.Code.NOT_FOUND,
        "snapshot nope: not found",
        () ->
            stub.update(
                UpdateSnapshotRequest.newBuilder()
                    .setInfo(Info.newBuilder().setName("nope"))
                    .build()));
  }

  @Test
  void list_appliesContainerdFilters() throws Exception {
    start();
    stub.prepare(
        PrepareSnapshotRequest.newBuilder()
            .setKey("extract")
            .putLabels("containerd.io/snapshot.ref", CHAIN)
            .build());
    commit(CHAIN, "extract");
    prepare("container", CHAIN);

    assertThat(list()).hasSize(2);
    assertThat(list("labels.\"containerd.io/snapshot.ref\"==" + CHAIN + ",parent==\"\""))
        .hasSize(0);
    assertThat(list("kind==active")).hasSize(1);
    assertThat(list("kind==active", "name==" + CHAIN)).hasSize(2);
    assertStatus(
        Status.Code.INVALID_ARGUMENT,
        "invalid filter \"kind=\" at position 4: unsupported operator \"=\": invalid argument",
        () -> list("kind="));
  }

  @Test
  void list_sendsAtMostOneHundredSnapshotsPerMessage() throws Exception {
    start();
    for (int i = 0; i < 250; i++) {
      prepare("k" + i, "");
    }

    List<Integer> sizes = new ArrayList<>();
    stub.list(ListSnapshotsRequest.getDefaultInstance())
        .forEachRemaining(response -> sizes.add(response.getInfoCount()));

    assertThat(sizes).containsExactly(100, 100, 50).inOrder();
  }

  @Test
  void usageAndRemoveAndCleanup() throws Exception {
    start();
    prepare("k", "");
    Files.write(Path.of(fs(1)).resolve("data"), new byte[8192]);

    UsageResponse usage = stub.usage(UsageRequest.newBuilder().setKey("k").build());
    stub.remove(RemoveSnapshotRequest.newBuilder().setKey("k").build());
    Files.createDirectories(root.resolve("snapshotter/snapshots/9/fs"));
    stub.cleanup(CleanupRequest.getDefaultInstance());

    assertThat(usage.getInodes()).isEqualTo(2);
    assertThat(usage.getSize()).isAtLeast(8192);
    assertThat(list()).isEmpty();
    try (var entries = Files.list(root.resolve("snapshotter/snapshots"))) {
      assertThat(entries.toList()).isEmpty();
    }
  }

  @Test
  void errors_mapToContainerdStatusCodes() throws Exception {
    start();
    prepare("k", "");
    prepare("base-key", "");
    commit("base", "base-key");
    prepare("child", "base");
    stub.view(ViewSnapshotRequest.newBuilder().setKey("view").setParent("base").build());

    assertStatus(Status.Code.ALREADY_EXISTS, "snapshot k: already exists", () -> prepare("k", ""));
    assertStatus(
        Status.Code.NOT_FOUND, "parent snapshot \"nope\": not found", () -> prepare("x", "nope"));
    assertStatus(
        Status.Code.INVALID_ARGUMENT,
        "parent \"k\" is not committed snapshot: invalid argument",
        () -> prepare("x", "k"));
    assertStatus(Status.Code.NOT_FOUND, "snapshot nope: not found", () -> stat("nope"));
    assertStatus(
        Status.Code.NOT_FOUND,
        "snapshot nope: not found",
        () -> stub.remove(RemoveSnapshotRequest.newBuilder().setKey("nope").build()));
    assertStatus(
        Status.Code.FAILED_PRECONDITION,
        "cannot remove snapshot with child: failed precondition",
        () -> stub.remove(RemoveSnapshotRequest.newBuilder().setKey("base").build()));
    assertStatus(
        Status.Code.FAILED_PRECONDITION,
        "requested snapshot base not active or view: failed precondition",
        () -> stub.mounts(MountsRequest.newBuilder().setKey("base").build()));
    assertStatus(Status.Code.NOT_FOUND, "snapshot nope: not found", () -> commit("x", "nope"));
    assertStatus(
        Status.Code.ALREADY_EXISTS,
        "committed snapshot base: already exists",
        () -> commit("base", "k"));
    assertStatus(
        Status.Code.FAILED_PRECONDITION,
        "snapshot \"view\" is not active: failed precondition",
        () -> commit("x", "view"));
    assertStatus(
        Status.Code.NOT_FOUND,
        "snapshot nope: not found",
        () -> stub.usage(UsageRequest.newBuilder().setKey("nope").build()));
  }

  @Test
  void prepare_remoteLayer_answersAlreadyExistsWithTheCallersNamespace() throws Exception {
    start(new SnapshotterOptions(Optional.of(mounter), Optional.empty(), 0));

    assertStatus(
        Status.Code.ALREADY_EXISTS,
        "target snapshot \"" + CHAIN + "\": already exists",
        () ->
            stub.prepare(
                PrepareSnapshotRequest.newBuilder()
                    .setKey("default/1/extract-1 " + CHAIN)
                    .putAllLabels(
                        Map.of(
                            "containerd.io/snapshot.ref", CHAIN,
                            "containerd.io/snapshot/cri.image-ref", "localhost:5000/app:1",
                            "containerd.io/snapshot/cri.manifest-digest", LAYER,
                            "containerd.io/snapshot/cri.layer-digest", LAYER))
                    .build()));

    assertThat(mounter.requests).hasSize(1);
    assertThat(mounter.requests.get(0).namespace()).isEqualTo("k8s.io");
    assertThat(stat(CHAIN).getKind()).isEqualTo(Kind.COMMITTED);
    assertThat(stat(CHAIN).getLabelsMap())
        .containsEntry("containerd.io/snapshot/remote/namespace", "k8s.io");
    assertThat(list("labels.\"containerd.io/snapshot.ref\"==" + CHAIN + ",parent==\"\""))
        .hasSize(1);

    prepare("container", CHAIN);
    mounter.failingChecks.add(Path.of(fs(1)));
    assertStatus(
        Status.Code.UNAVAILABLE,
        "lazily mounted layer "
            + LAYER
            + " (snapshot \""
            + CHAIN
            + "\") cannot be read from its registry (registry does not answer); until every span"
            + " of it is cached, new containers need the registry: unavailable",
        () -> stub.mounts(MountsRequest.newBuilder().setKey("container").build()));
  }

  @Test
  void unexpectedFailure_isUnknown() throws Exception {
    start();
    snapshotter.close();

    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stat("k"));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);
    assertThat(e.getStatus().getDescription()).startsWith("Stat k: cannot read snapshot k");
    snapshotter = null;
  }
}
