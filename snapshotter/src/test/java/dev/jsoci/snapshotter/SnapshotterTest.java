package dev.jsoci.snapshotter;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.snapshotter.errdefs.AlreadyExistsException;
import dev.jsoci.snapshotter.errdefs.FailedPreconditionException;
import dev.jsoci.snapshotter.errdefs.InvalidArgumentException;
import dev.jsoci.snapshotter.errdefs.NotFoundException;
import dev.jsoci.snapshotter.errdefs.UnavailableException;
import dev.jsoci.snapshotter.metadata.Kind;
import dev.jsoci.snapshotter.metadata.MetadataStore;
import dev.jsoci.snapshotter.metadata.SnapshotInfo;
import dev.jsoci.snapshotter.metadata.Usage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotterTest {
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-01-02T15:04:05.123456789Z"), ZoneOffset.UTC);
  private static final String NAMESPACE = "default";
  private static final String MANIFEST = "sha256:" + "a".repeat(64);
  private static final String LAYER_1 = "sha256:" + "1".repeat(64);
  private static final String LAYER_2 = "sha256:" + "2".repeat(64);
  private static final String CHAIN_1 = "sha256:" + "c1".repeat(32);
  private static final String CHAIN_2 = "sha256:" + "c2".repeat(32);

  @TempDir Path root;

  private Snapshotter snapshotter;

  /** The snapshotter's clock: {@link #CLOCK}'s instant plus {@link #elapsed}. */
  private Duration elapsed = Duration.ZERO;

  private final Clock clock =
      new Clock() {
        @Override
        public ZoneId getZone() {
          return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
          throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
          return CLOCK.instant().plus(elapsed);
        }
      };

  @AfterEach
  void close() throws IOException {
    if (snapshotter != null) {
      snapshotter.close();
    }
  }

  private Path snapshots() {
    return root.resolve("snapshotter").resolve("snapshots");
  }

  private Snapshotter open(
      SnapshotterOptions options, OverlayOptions overlay, FaultInjection faults)
      throws IOException {
    Path snapshotterRoot = root.resolve("snapshotter");
    Files.createDirectories(snapshotterRoot);
    SnapshotDirectories directories = new SnapshotDirectories(snapshots());
    directories.create();
    MetadataStore store = MetadataStore.open(snapshotterRoot.resolve("metadata.db"));
    snapshotter = new Snapshotter(store, directories, overlay, options, clock, faults);
    return snapshotter;
  }

  private Snapshotter open() throws IOException {
    return open(
        SnapshotterOptions.NO_REMOTE_LAYERS, new OverlayOptions(true, false), FaultInjection.NONE);
  }

  private Snapshotter open(RemoteLayerMounter mounter) throws IOException {
    return open(
        new SnapshotterOptions(Optional.of(mounter), Optional.empty(), 0),
        new OverlayOptions(true, false),
        FaultInjection.NONE);
  }

  private static Map<String, String> criLabels(String target, String layerDigest) {
    Map<String, String> labels = new HashMap<>();
    labels.put("containerd.io/snapshot.ref", target);
    labels.put("containerd.io/snapshot/cri.image-ref", "127.0.0.1:5000/app:1");
    labels.put("containerd.io/snapshot/cri.manifest-digest", MANIFEST);
    labels.put("containerd.io/snapshot/cri.layer-digest", layerDigest);
    labels.put("containerd.io/snapshot/cri.image-layers", LAYER_1 + "," + LAYER_2);
    return labels;
  }

  private String fs(long id) {
    return snapshots().resolve(Long.toString(id)).resolve("fs").toString();
  }

  private String work(long id) {
    return snapshots().resolve(Long.toString(id)).resolve("work").toString();
  }

  /** Prepares {@code key} on {@code parent}, writes a file and commits it as {@code name}. */
  private void commitLayer(String name, String key, String parent) throws Exception {
    snapshotter.prepare(NAMESPACE, key, parent, Map.of());
    snapshotter.commit(name, key, Map.of(), "");
  }

  @Test
  void prepare_withoutParent_bindsItsOwnDirectoryReadWrite() throws Exception {
    open();

    List<Mount> mounts = snapshotter.prepare(NAMESPACE, "k1", "", Map.of());

    assertThat(mounts).containsExactly(new Mount("bind", fs(1), List.of("rw", "rbind")));
    Path directory = snapshots().resolve("1");
    assertThat(Files.isDirectory(directory.resolve("fs"))).isTrue();
    assertThat(Files.isDirectory(directory.resolve("work"))).isTrue();
    assertThat(
            PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.resolve("fs"))))
        .isEqualTo("rwxr-xr-x");
    assertThat(
            PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.resolve("work"))))
        .isEqualTo("rwx--x--x");
  }

  @Test
  void prepare_onParents_returnsOverlayInContainerdOrder() throws Exception {
    open();
    commitLayer("layer-1", "extract-1", "");
    commitLayer("layer-2", "extract-2", "layer-1");

    List<Mount> mounts = snapshotter.prepare(NAMESPACE, "container", "layer-2", Map.of());

    assertThat(mounts)
        .containsExactly(
            new Mount(
                "overlay",
                "overlay",
                List.of(
                    "index=off",
                    "workdir=" + work(3),
                    "upperdir=" + fs(3),
                    "lowerdir=" + fs(2) + ":" + fs(1))));
  }

  @Test
  void prepare_inUserNamespace_addsUserxattr() throws Exception {
    open(SnapshotterOptions.NO_REMOTE_LAYERS, new OverlayOptions(false, true), FaultInjection.NONE);
    commitLayer("layer-1", "extract-1", "");

    List<Mount> mounts = snapshotter.prepare(NAMESPACE, "container", "layer-1", Map.of());

    assertThat(mounts.get(0).options())
        .containsExactly(
            "userxattr", "workdir=" + work(2), "upperdir=" + fs(2), "lowerdir=" + fs(1))
        .inOrder();
  }

  @Test
  void view_shapesFollowContainerd() throws Exception {
    open();
    commitLayer("layer-1", "extract-1", "");
    commitLayer("layer-2", "extract-2", "layer-1");

    assertThat(snapshotter.view("view-0", "", Map.of()))
        .containsExactly(new Mount("bind", fs(3), List.of("ro", "rbind")));
    assertThat(snapshotter.view("view-1", "layer-1", Map.of()))
        .containsExactly(new Mount("bind", fs(1), List.of("ro", "rbind")));
    assertThat(snapshotter.view("view-2", "layer-2", Map.of()))
        .containsExactly(
            new Mount(
                "overlay", "overlay", List.of("index=off", "lowerdir=" + fs(2) + ":" + fs(1))));
    assertThat(Files.exists(snapshots().resolve("5").resolve("work"))).isFalse();
  }

  @Test
  void prepare_failureBeforeCommit_leavesNoRecordAndNoDirectory() throws Exception {
    open(
        SnapshotterOptions.NO_REMOTE_LAYERS,
        new OverlayOptions(true, false),
        record -> {
          throw new IOException("disk full");
        });

    IOException e =
        assertThrows(IOException.class, () -> snapshotter.prepare(NAMESPACE, "k1", "", Map.of()));

    assertThat(e).hasMessageThat().isEqualTo("disk full");
    assertThrows(NotFoundException.class, () -> snapshotter.stat("k1"));
    assertThat(snapshotter.list(List.of())).isEmpty();
    try (var entries = Files.list(snapshots())) {
      assertThat(entries.toList()).isEmpty();
    }
  }

  @Test
  void prepare_existingKey_isAlreadyExistsAndLeavesNoDirectory() throws Exception {
    open();
    snapshotter.prepare(NAMESPACE, "k1", "", Map.of());

    AlreadyExistsException e =
        assertThrows(
            AlreadyExistsException.class, () -> snapshotter.prepare(NAMESPACE, "k1", "", Map.of()));

    assertThat(e).hasMessageThat().isEqualTo("snapshot k1: already exists");
    try (var entries = Files.list(snapshots())) {
      assertThat(entries.map(path -> path.getFileName().toString()).toList()).containsExactly("1");
    }
  }

  @Test
  void prepare_missingOrActiveParent_isRejected() throws Exception {
    open();
    snapshotter.prepare(NAMESPACE, "active", "", Map.of());

    NotFoundException missing =
        assertThrows(
            NotFoundException.class, () -> snapshotter.prepare(NAMESPACE, "k", "nope", Map.of()));
    InvalidArgumentException notCommitted =
        assertThrows(
            InvalidArgumentException.class,
            () -> snapshotter.prepare(NAMESPACE, "k", "active", Map.of()));

    assertThat(missing).hasMessageThat().isEqualTo("parent snapshot \"nope\": not found");
    assertThat(notCommitted)
        .hasMessageThat()
        .isEqualTo("parent \"active\" is not committed snapshot: invalid argument");
  }

  @Test
  void commit_measuresUsageAndKeepsTheDirectory() throws Exception {
    open();
    snapshotter.prepare(NAMESPACE, "k1", "", Map.of("keep", "no"));
    Files.write(Path.of(fs(1)).resolve("data"), new byte[10_000]);
    Files.createLink(Path.of(fs(1)).resolve("link"), Path.of(fs(1)).resolve("data"));

    snapshotter.commit("layer", "k1", Map.of("a", "b"), "");

    SnapshotInfo info = snapshotter.stat("layer");
    assertThat(info.kind()).isEqualTo(Kind.COMMITTED);
    assertThat(info.labels()).containsExactly("a", "b");
    assertThat(info.createdAt()).isEqualTo(CLOCK.instant());
    Usage usage = snapshotter.usage("layer");
    assertThat(usage.inodes()).isEqualTo(2);
    assertThat(usage.sizeBytes()).isAtLeast(10_000);
    assertThat(usage.sizeBytes()).isLessThan(20_000);
    assertThat(Files.exists(Path.of(fs(1)).resolve("data"))).isTrue();
    assertThrows(NotFoundException.class, () -> snapshotter.stat("k1"));
  }

  @Test
  void commit_errors() throws Exception {
    open();
    commitLayer("layer", "k0", "");
    snapshotter.prepare(NAMESPACE, "k1", "", Map.of());
    snapshotter.view("v1", "layer", Map.of());

    assertThrows(NotFoundException.class, () -> snapshotter.commit("x", "nope", Map.of(), ""));
    AlreadyExistsException exists =
        assertThrows(
            AlreadyExistsException.class, () -> snapshotter.commit("layer", "k1", Map.of(), ""));
    FailedPreconditionException view =
        assertThrows(
            FailedPreconditionException.class, () -> snapshotter.commit("x", "v1", Map.of(), ""));
    InvalidArgumentException otherParent =
        assertThrows(
            InvalidArgumentException.class, () -> snapshotter.commit("x", "v1", Map.of(), "other"));

    assertThat(exists).hasMessageThat().isEqualTo("committed snapshot layer: already exists");
    assertThat(view)
        .hasMessageThat()
        .isEqualTo("snapshot \"v1\" is not active: failed precondition");
    assertThat(otherParent)
        .hasMessageThat()
        .isEqualTo("snapshot v1 has parent \"layer\", not \"other\": invalid argument");
  }

  @Test
  void commit_withParent_adoptsItWhenThereIsNone() throws Exception {
    open();
    commitLayer("base", "k0", "");
    snapshotter.prepare(NAMESPACE, "k1", "", Map.of());

    snapshotter.commit("top", "k1", Map.of(), "base");

    assertThat(snapshotter.stat("top").parent()).isEqualTo("base");
  }

  @Test
  void remove_deletesTheDirectoryAfterTheRecord() throws Exception {
    open();
    snapshotter.prepare(NAMESPACE, "k1", "", Map.of());
    Files.writeString(Path.of(fs(1)).resolve("file"), "x");

    snapshotter.remove("k1");

    assertThrows(NotFoundException.class, () -> snapshotter.stat("k1"));
    assertThat(Files.exists(snapshots().resolve("1"))).isFalse();
  }

  @Test
  void remove_errors() throws Exception {
    open();
    commitLayer("base", "k0", "");
    snapshotter.prepare(NAMESPACE, "child", "base", Map.of());

    NotFoundException missing =
        assertThrows(NotFoundException.class, () -> snapshotter.remove("nope"));
    FailedPreconditionException withChild =
        assertThrows(FailedPreconditionException.class, () -> snapshotter.remove("base"));

    assertThat(missing).hasMessageThat().isEqualTo("snapshot nope: not found");
    assertThat(withChild)
        .hasMessageThat()
        .isEqualTo("cannot remove snapshot with child: failed precondition");
    assertThat(Files.exists(snapshots().resolve("1"))).isTrue();
  }

  @Test
  void ids_areNeverReused() throws Exception {
    open();
    snapshotter.prepare(NAMESPACE, "k1", "", Map.of());
    snapshotter.remove("k1");

    List<Mount> mounts = snapshotter.prepare(NAMESPACE, "k1", "", Map.of());

    assertThat(mounts.get(0).source()).isEqualTo(fs(2));
  }

  @Test
  void cleanup_removesDirectoriesWithoutRecords() throws Exception {
    open();
    snapshotter.prepare(NAMESPACE, "k1", "", Map.of());
    Files.createDirectories(snapshots().resolve("77").resolve("fs"));
    Files.createDirectories(snapshots().resolve("new-123").resolve("fs"));
    Files.writeString(snapshots().resolve("77").resolve("fs").resolve("file"), "x");

    snapshotter.cleanup();

    try (var entries = Files.list(snapshots())) {
      assertThat(entries.map(path -> path.getFileName().toString()).toList()).containsExactly("1");
    }
  }

  @Test
  void mounts_ofCommittedSnapshot_isFailedPrecondition() throws Exception {
    open();
    commitLayer("layer", "k0", "");
    snapshotter.prepare(NAMESPACE, "k1", "layer", Map.of());

    FailedPreconditionException e =
        assertThrows(FailedPreconditionException.class, () -> snapshotter.mounts("layer"));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("requested snapshot layer not active or view: failed precondition");
    assertThat(snapshotter.mounts("k1").get(0).type()).isEqualTo("overlay");
  }

  @Test
  void usage_ofActiveSnapshot_isMeasuredNow() throws Exception {
    open();
    snapshotter.prepare(NAMESPACE, "k1", "", Map.of());
    Usage empty = snapshotter.usage("k1");
    Files.write(Path.of(fs(1)).resolve("data"), new byte[50_000]);

    Usage written = snapshotter.usage("k1");

    assertThat(empty.inodes()).isEqualTo(1);
    assertThat(written.inodes()).isEqualTo(2);
    assertThat(written.sizeBytes() - empty.sizeBytes()).isAtLeast(50_000);
  }

  @Test
  void prepare_layerLabelsWithoutMounter_isAnOrdinarySnapshot() throws Exception {
    open();

    List<Mount> mounts =
        snapshotter.prepare(NAMESPACE, "extract-1 " + CHAIN_1, "", criLabels(CHAIN_1, LAYER_1));

    assertThat(mounts).containsExactly(new Mount("bind", fs(1), List.of("rw", "rbind")));
    assertThat(snapshotter.stat("extract-1 " + CHAIN_1).kind()).isEqualTo(Kind.ACTIVE);
  }

  /**
   * containerd 1.6.20 sends a proxy snapshotter no {@code containerd-namespace} header; the
   * namespace reaches it only as the first part of the backend key.
   */
  @Test
  void prepare_withoutNamespaceHeader_takesNamespaceFromKey() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    open(mounter);

    assertThrows(
        AlreadyExistsException.class,
        () ->
            snapshotter.prepare(
                "", "ns-1/7/extract-1 " + CHAIN_1, "", criLabels(CHAIN_1, LAYER_1)));

    assertThat(mounter.mounts).hasSize(1);
    assertThat(mounter.mounts.get(0).request().namespace()).isEqualTo("ns-1");
    assertThat(snapshotter.stat(CHAIN_1).labels())
        .containsEntry("containerd.io/snapshot/remote/namespace", "ns-1");
  }

  @Test
  void namespaceOfKey_readsOnlyTheMetadataPrefix() {
    assertThat(Snapshotter.namespaceOfKey("default/12/extract-1 sha256:abc")).isEqualTo("default");
    assertThat(Snapshotter.namespaceOfKey("extract-1 sha256:abc")).isEmpty();
    assertThat(Snapshotter.namespaceOfKey("a/b/c")).isEmpty();
    assertThat(Snapshotter.namespaceOfKey("/3/c")).isEmpty();
  }

  @Test
  void prepare_layerLabelsWithMounter_mountsCommitsAndAnswersAlreadyExists() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    open(mounter);
    commitLayer(CHAIN_1, "extract-0", "");

    AlreadyExistsException e =
        assertThrows(
            AlreadyExistsException.class,
            () ->
                snapshotter.prepare(
                    NAMESPACE, "extract-2 " + CHAIN_2, CHAIN_1, criLabels(CHAIN_2, LAYER_2)));

    assertThat(e).hasMessageThat().isEqualTo("target snapshot \"" + CHAIN_2 + "\": already exists");
    assertThat(mounter.mounts).hasSize(1);
    RemoteLayerRequest request = mounter.mounts.get(0).request();
    assertThat(mounter.mounts.get(0).mountpoint()).isEqualTo(Path.of(fs(2)));
    assertThat(request.namespace()).isEqualTo(NAMESPACE);
    assertThat(request.imageRef().registryHost()).isEqualTo("127.0.0.1:5000");
    assertThat(request.imageRef().repository()).isEqualTo("app");
    assertThat(request.layerDigest().toString()).isEqualTo(LAYER_2);
    assertThat(request.manifestDigest().orElseThrow().toString()).isEqualTo(MANIFEST);
    assertThat(request.imageLayerDigests()).hasSize(2);

    SnapshotInfo committed = snapshotter.stat(CHAIN_2);
    assertThat(committed.kind()).isEqualTo(Kind.COMMITTED);
    assertThat(committed.parent()).isEqualTo(CHAIN_1);
    assertThat(committed.labels())
        .containsAtLeast(
            "containerd.io/snapshot.ref", CHAIN_2,
            "containerd.io/snapshot/remote", "remote snapshot",
            "containerd.io/snapshot/remote/namespace", NAMESPACE,
            "containerd.io/snapshot/remote/has.soci.index.digest", "true",
            "containerd.io/snapshot/cri.layer-digest", LAYER_2);
    assertThat(snapshotter.usage(CHAIN_2)).isEqualTo(Usage.ZERO);
    assertThrows(NotFoundException.class, () -> snapshotter.stat("extract-2 " + CHAIN_2));
    // The List call that containerd makes after ALREADY_EXISTS finds the snapshot.
    assertThat(
            snapshotter.list(
                List.of(
                    "labels.\"containerd.io/snapshot.ref\"=="
                        + CHAIN_2
                        + ",parent==\""
                        + CHAIN_1
                        + "\"")))
        .containsExactly(committed);
  }

  @Test
  void prepare_targetExists_answersWithoutMounting() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    open(mounter);
    assertThrows(
        AlreadyExistsException.class,
        () -> snapshotter.prepare(NAMESPACE, "k1", "", criLabels(CHAIN_1, LAYER_1)));
    snapshotter.prepare(NAMESPACE, "container", CHAIN_1, Map.of());

    // Another namespace pulls the same layer: containerd sends the same target name.
    AlreadyExistsException e =
        assertThrows(
            AlreadyExistsException.class,
            () -> snapshotter.prepare("other", "k2", "", criLabels(CHAIN_1, LAYER_1)));

    assertThat(e).hasMessageThat().isEqualTo("target snapshot \"" + CHAIN_1 + "\": already exists");
    assertThat(mounter.mounts).hasSize(1);
    assertThrows(NotFoundException.class, () -> snapshotter.stat("k2"));
    assertThat(snapshotter.stat(CHAIN_1).kind()).isEqualTo(Kind.COMMITTED);
  }

  @Test
  void prepare_stargzLabels_becomeTheSameRequest() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    open(mounter);
    Map<String, String> labels =
        Map.of(
            "containerd.io/snapshot.ref",
            CHAIN_1,
            "containerd.io/snapshot/remote/stargz.reference",
            "localhost:5000/app:1",
            "containerd.io/snapshot/remote/stargz.digest",
            LAYER_1,
            "containerd.io/snapshot/remote/stargz.layers",
            LAYER_1 + "," + LAYER_2);

    assertThrows(
        AlreadyExistsException.class, () -> snapshotter.prepare(NAMESPACE, "k", "", labels));

    RemoteLayerRequest request = mounter.mounts.get(0).request();
    assertThat(request.imageRef().registryHost()).isEqualTo("localhost:5000");
    assertThat(request.layerDigest().toString()).isEqualTo(LAYER_1);
    assertThat(request.manifestDigest()).isEmpty();
    assertThat(request.imageLayerDigests()).hasSize(2);
  }

  @Test
  void prepare_remoteMountFails_defersToTheRuntime() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    mounter.failingLayerDigests.add(LAYER_1);
    open(mounter);

    List<Mount> mounts = snapshotter.prepare(NAMESPACE, "k", "", criLabels(CHAIN_1, LAYER_1));

    assertThat(mounts).containsExactly(new Mount("bind", fs(1), List.of("rw", "rbind")));
    assertThat(snapshotter.stat("k").kind()).isEqualTo(Kind.ACTIVE);
    assertThrows(NotFoundException.class, () -> snapshotter.stat(CHAIN_1));
  }

  private Snapshotter open(RemoteLayerMounter mounter, LocalLayerUnpacker unpacker)
      throws IOException {
    return open(
        new SnapshotterOptions(Optional.of(mounter), Optional.of(unpacker), 0),
        new OverlayOptions(true, false),
        FaultInjection.NONE);
  }

  @Test
  void prepare_layerWithoutZtoc_isUnpackedAndCommittedLocally() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    mounter.failingLayerDigests.add(LAYER_2);
    RecordingUnpacker unpacker = new RecordingUnpacker();
    open(mounter, unpacker);
    commitLayer(CHAIN_1, "extract-0", "");

    AlreadyExistsException e =
        assertThrows(
            AlreadyExistsException.class,
            () ->
                snapshotter.prepare(
                    NAMESPACE, "extract-2 " + CHAIN_2, CHAIN_1, criLabels(CHAIN_2, LAYER_2)));

    assertThat(e).hasMessageThat().isEqualTo("target snapshot \"" + CHAIN_2 + "\": already exists");
    assertThat(unpacker.unpacks).hasSize(1);
    RecordingUnpacker.UnpackCall call = unpacker.unpacks.get(0);
    assertThat(call.request().layerDigest().toString()).isEqualTo(LAYER_2);
    assertThat(call.directory()).isEqualTo(Path.of(fs(2)));
    assertThat(call.temporaryFile().getParent()).isEqualTo(Path.of(fs(2)).getParent());
    assertThat(Files.readString(Path.of(fs(2), "etc", "layer.txt"))).isEqualTo(LAYER_2);

    SnapshotInfo committed = snapshotter.stat(CHAIN_2);
    assertThat(committed.kind()).isEqualTo(Kind.COMMITTED);
    assertThat(committed.parent()).isEqualTo(CHAIN_1);
    assertThat(committed.labels())
        .containsAtLeast(
            "containerd.io/snapshot.ref",
            CHAIN_2,
            "containerd.io/snapshot/remote/has.soci.index.digest",
            "true");
    assertThat(committed.labels()).doesNotContainKey("containerd.io/snapshot/remote");
    assertThat(snapshotter.usage(CHAIN_2).inodes()).isGreaterThan(0);
    assertThrows(NotFoundException.class, () -> snapshotter.stat("extract-2 " + CHAIN_2));
    assertThat(mounter.unmounts).isEmpty();
  }

  @Test
  void prepare_locallyUnpackedLayer_isNotMountedAgainAtRestart() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    mounter.failingLayerDigests.add(LAYER_1);
    open(mounter, new RecordingUnpacker());
    assertThrows(
        AlreadyExistsException.class,
        () -> snapshotter.prepare(NAMESPACE, "k", "", criLabels(CHAIN_1, LAYER_1)));
    snapshotter.close();

    RecordingMounter restarted = new RecordingMounter();
    open(restarted, new RecordingUnpacker());

    assertThat(snapshotter.restoreRemoteSnapshots()).isEqualTo(0);
    assertThat(restarted.mounts).isEmpty();
    assertThat(snapshotter.stat(CHAIN_1).kind()).isEqualTo(Kind.COMMITTED);
  }

  @Test
  void prepare_imageWithoutIndex_defersWithoutLocalUnpack() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    mounter.unindexedLayerDigests.add(LAYER_1);
    RecordingUnpacker unpacker = new RecordingUnpacker();
    open(mounter, unpacker);

    List<Mount> mounts = snapshotter.prepare(NAMESPACE, "k", "", criLabels(CHAIN_1, LAYER_1));

    assertThat(mounts).containsExactly(new Mount("bind", fs(1), List.of("rw", "rbind")));
    assertThat(unpacker.unpacks).isEmpty();
    assertThat(snapshotter.stat("k").kind()).isEqualTo(Kind.ACTIVE);
    assertThrows(NotFoundException.class, () -> snapshotter.stat(CHAIN_1));
  }

  @Test
  void prepare_localUnpackFails_emptiesFsAndDefers() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    mounter.failingLayerDigests.add(LAYER_1);
    RecordingUnpacker unpacker = new RecordingUnpacker();
    unpacker.failing = true;
    open(mounter, unpacker);

    List<Mount> mounts = snapshotter.prepare(NAMESPACE, "k", "", criLabels(CHAIN_1, LAYER_1));

    assertThat(mounts).containsExactly(new Mount("bind", fs(1), List.of("rw", "rbind")));
    assertThat(unpacker.unpacks).hasSize(1);
    try (var entries = Files.list(Path.of(fs(1)))) {
      assertThat(entries.toList()).isEmpty();
    }
    assertThat(Files.exists(unpacker.unpacks.get(0).temporaryFile())).isFalse();
    assertThat(Files.isDirectory(Path.of(work(1)))).isTrue();
    assertThat(snapshotter.stat("k").kind()).isEqualTo(Kind.ACTIVE);
    assertThrows(NotFoundException.class, () -> snapshotter.stat(CHAIN_1));
  }

  @Test
  void prepare_localUnpack_checksLowerLayersFirst() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    mounter.failingLayerDigests.add(LAYER_2);
    RecordingUnpacker unpacker = new RecordingUnpacker();
    open(mounter, unpacker);
    assertThrows(
        AlreadyExistsException.class,
        () -> snapshotter.prepare(NAMESPACE, "k1", "", criLabels(CHAIN_1, LAYER_1)));
    mounter.failingChecks.add(Path.of(fs(1)));

    assertThrows(
        UnavailableException.class,
        () -> snapshotter.prepare(NAMESPACE, "k2", CHAIN_1, criLabels(CHAIN_2, LAYER_2)));

    assertThat(unpacker.unpacks).isEmpty();
  }

  @Test
  void prepare_malformedLabels_defersToTheRuntime() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    open(mounter);
    Map<String, String> labels = criLabels(CHAIN_1, "sha256:short");

    List<Mount> mounts = snapshotter.prepare(NAMESPACE, "k", "", labels);

    assertThat(mounts).hasSize(1);
    assertThat(mounter.mounts).isEmpty();
  }

  @Test
  void prepare_withoutNamespace_defersToTheRuntime() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    open(mounter);

    snapshotter.prepare("", "k", "", criLabels(CHAIN_1, LAYER_1));

    assertThat(mounter.mounts).isEmpty();
  }

  @Test
  void prepare_layerBelowMinimumSize_defersToTheRuntime() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    open(
        new SnapshotterOptions(Optional.of(mounter), Optional.empty(), 1_000_000),
        new OverlayOptions(true, false),
        FaultInjection.NONE);
    Map<String, String> small = criLabels(CHAIN_1, LAYER_1);
    small.put("containerd.io/snapshot/remote/soci.size", "999999");
    Map<String, String> large = criLabels(CHAIN_2, LAYER_2);
    large.put("containerd.io/snapshot/remote/soci.size", "1000000");

    snapshotter.prepare(NAMESPACE, "small", "", small);
    assertThrows(
        AlreadyExistsException.class, () -> snapshotter.prepare(NAMESPACE, "large", "", large));

    assertThat(mounter.mounts).hasSize(1);
    assertThat(mounter.mounts.get(0).request().layerSizeBytes())
        .isEqualTo(OptionalLong.of(1_000_000));
  }

  @Test
  void mounts_aboveRemoteLayer_runTheAvailabilityCheck() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    open(mounter);
    assertThrows(
        AlreadyExistsException.class,
        () -> snapshotter.prepare(NAMESPACE, "k", "", criLabels(CHAIN_1, LAYER_1)));

    snapshotter.prepare(NAMESPACE, "container", CHAIN_1, Map.of());
    mounter.failingChecks.add(Path.of(fs(1)));
    UnavailableException e =
        assertThrows(UnavailableException.class, () -> snapshotter.mounts("container"));

    assertThat(mounter.checks).containsExactly(Path.of(fs(1)), Path.of(fs(1)));
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "lazily mounted layer "
                + LAYER_1
                + " (snapshot \""
                + CHAIN_1
                + "\") cannot be read from its registry (registry does not answer); until every"
                + " span of it is cached, new containers need the registry: unavailable");
  }

  @Test
  void remove_remoteSnapshot_unmountsBeforeDeleting() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    open(mounter);
    assertThrows(
        AlreadyExistsException.class,
        () -> snapshotter.prepare(NAMESPACE, "k", "", criLabels(CHAIN_1, LAYER_1)));

    snapshotter.remove(CHAIN_1);

    assertThat(mounter.unmounts).containsExactly(Path.of(fs(1)));
    assertThat(Files.exists(snapshots().resolve("1"))).isFalse();
  }

  @Test
  void close_unmountsRemoteLayers() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    open(mounter);
    assertThrows(
        AlreadyExistsException.class,
        () -> snapshotter.prepare(NAMESPACE, "k", "", criLabels(CHAIN_1, LAYER_1)));

    snapshotter.close();
    snapshotter = null;

    assertThat(mounter.unmounts).containsExactly(Path.of(fs(1)));
  }

  @Test
  void prepare_listedZtoc_commitsBeforeTheMount() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    mounter.findsZtocs = true;
    mounter.mountGate.drainPermits();
    open(mounter);

    prepareTwoRemoteLayers();
    assertThat(snapshotter.stat(CHAIN_2).labels())
        .containsEntry("containerd.io/snapshot/remote", "remote snapshot");
    CompletableFuture<List<Mount>> container =
        inBackground(() -> snapshotter.prepare(NAMESPACE, "container", CHAIN_2, Map.of()));
    Thread.sleep(200);
    boolean doneBeforeMounts = container.isDone();
    mounter.mountGate.release(Integer.MAX_VALUE);

    assertThat(doneBeforeMounts).isFalse();
    assertThat(container.get(30, TimeUnit.SECONDS))
        .containsExactly(
            new Mount(
                "overlay",
                "overlay",
                List.of(
                    "index=off",
                    "workdir=" + work(3),
                    "upperdir=" + fs(3),
                    "lowerdir=" + fs(2) + ":" + fs(1))));
    assertThat(mounter.mounts.stream().map(RecordingMounter.MountCall::mountpoint).toList())
        .containsExactly(Path.of(fs(1)), Path.of(fs(2)));
    assertThat(mounter.checks).containsExactly(Path.of(fs(1)), Path.of(fs(2)));
  }

  @Test
  void backgroundMountFails_unpacksTheLayer() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    mounter.findsZtocs = true;
    mounter.failingMountDigests.add(LAYER_2);
    RecordingUnpacker unpacker = new RecordingUnpacker();
    open(mounter, unpacker);

    prepareTwoRemoteLayers();
    snapshotter.prepare(NAMESPACE, "container", CHAIN_2, Map.of());

    assertThat(unpacker.unpacks).hasSize(1);
    assertThat(unpacker.unpacks.get(0).directory()).isEqualTo(Path.of(fs(2)));
    assertThat(Files.readString(Path.of(fs(2), "etc", "layer.txt"))).isEqualTo(LAYER_2);
    assertThat(snapshotter.stat(CHAIN_2).labels())
        .doesNotContainKey("containerd.io/snapshot/remote");
    assertThat(snapshotter.stat(CHAIN_2).labels())
        .doesNotContainKey("containerd.io/snapshot/remote/namespace");
    assertThat(snapshotter.stat(CHAIN_1).labels())
        .containsEntry("containerd.io/snapshot/remote", "remote snapshot");
    assertThat(snapshotter.usage(CHAIN_2).inodes()).isGreaterThan(0);
    assertThat(mounter.checks).containsExactly(Path.of(fs(1)));
    snapshotter.close();

    RecordingMounter restarted = new RecordingMounter();
    open(restarted, new RecordingUnpacker());
    assertThat(snapshotter.restoreRemoteSnapshots()).isEqualTo(1);
    assertThat(restarted.mounts.stream().map(RecordingMounter.MountCall::mountpoint).toList())
        .containsExactly(Path.of(fs(1)));
  }

  @Test
  void mountAndUnpackFail_retryOnNextUse() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    mounter.findsZtocs = true;
    mounter.failingMountDigests.add(LAYER_1);
    RecordingUnpacker unpacker = new RecordingUnpacker();
    unpacker.failing = true;
    open(mounter, unpacker);

    prepareTwoRemoteLayers();
    UnavailableException e =
        assertThrows(
            UnavailableException.class,
            () -> snapshotter.prepare(NAMESPACE, "container", CHAIN_2, Map.of()));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "lazily mounted layer "
                + LAYER_1
                + " (snapshot \""
                + CHAIN_1
                + "\") is not mounted: mounting it failed (zTOC of layer "
                + LAYER_1
                + " is invalid; unpacking the layer instead failed: uncompressed digests did not"
                + " match); it is tried again 10 s after the last attempt, when the layer is next"
                + " used: unavailable");
    try (var left = Files.list(Path.of(fs(1)))) {
      assertThat(left.toList()).isEmpty();
    }
    assertThat(snapshotter.stat(CHAIN_1).labels())
        .containsEntry("containerd.io/snapshot/remote", "remote snapshot");

    // The next use after the interval mounts it, once the zTOC can be read.
    mounter.failingMountDigests.clear();
    elapsed = Snapshotter.RESTORE_RETRY_INTERVAL;
    snapshotter.prepare(NAMESPACE, "container-2", CHAIN_2, Map.of());
    assertThat(mounter.checks).containsExactly(Path.of(fs(1)), Path.of(fs(2)));
  }

  @Test
  void retryThatUnpacks_servesTheSameUse() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    mounter.findsZtocs = true;
    mounter.failingMountDigests.add(LAYER_1);
    RecordingUnpacker unpacker = new RecordingUnpacker();
    unpacker.failing = true;
    open(mounter, unpacker);
    prepareTwoRemoteLayers();
    assertThrows(
        UnavailableException.class,
        () -> snapshotter.prepare(NAMESPACE, "container", CHAIN_2, Map.of()));

    // The zTOC still fails, but the layer blob can be read again.
    unpacker.failing = false;
    elapsed = Snapshotter.RESTORE_RETRY_INTERVAL;
    List<Mount> mounts = snapshotter.prepare(NAMESPACE, "container-2", CHAIN_2, Map.of());

    assertThat(mounts).hasSize(1);
    assertThat(snapshotter.stat(CHAIN_1).labels())
        .doesNotContainKey("containerd.io/snapshot/remote");
    assertThat(Files.readString(Path.of(fs(1), "etc", "layer.txt"))).isEqualTo(LAYER_1);
    assertThat(mounter.checks).containsExactly(Path.of(fs(2)));
  }

  @Test
  void close_stopsBackgroundMounts_withoutUnpacking() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    mounter.findsZtocs = true;
    mounter.mountGate.drainPermits();
    RecordingUnpacker unpacker = new RecordingUnpacker();
    open(mounter, unpacker);
    assertThrows(
        AlreadyExistsException.class,
        () -> snapshotter.prepare(NAMESPACE, "k1", "", criLabels(CHAIN_1, LAYER_1)));

    snapshotter.close();
    snapshotter = null;

    assertThat(mounter.mounts).isEmpty();
    assertThat(unpacker.unpacks).isEmpty();
    RecordingMounter restarted = new RecordingMounter();
    open(restarted, new RecordingUnpacker());
    assertThat(snapshotter.stat(CHAIN_1).labels())
        .containsEntry("containerd.io/snapshot/remote", "remote snapshot");
    assertThat(snapshotter.restoreRemoteSnapshots()).isEqualTo(1);
  }

  @Test
  void remove_stopsBackgroundMount() throws Exception {
    RecordingMounter mounter = new RecordingMounter();
    mounter.findsZtocs = true;
    mounter.mountGate.drainPermits();
    open(mounter);
    assertThrows(
        AlreadyExistsException.class,
        () -> snapshotter.prepare(NAMESPACE, "k1", "", criLabels(CHAIN_1, LAYER_1)));

    // The mount waits for the gate until it is interrupted.
    inBackground(
            () -> {
              snapshotter.remove(CHAIN_1);
              return null;
            })
        .get(30, TimeUnit.SECONDS);

    assertThat(mounter.mounts).isEmpty();
    assertThat(Files.exists(snapshots().resolve("1"))).isFalse();
    assertThrows(NotFoundException.class, () -> snapshotter.stat(CHAIN_1));
    // The next layer's background work runs on the same threads, without a stray interrupt.
    mounter.mountGate.release(Integer.MAX_VALUE);
    prepareTwoRemoteLayers();
    snapshotter.prepare(NAMESPACE, "container", CHAIN_2, Map.of());
    assertThat(mounter.mounts).hasSize(2);
  }

  @Test
  void remove_stopsBackgroundUnpack() throws Exception {
    RecordingUnpacker unpacker = new RecordingUnpacker();
    unpacker.gate.drainPermits();
    openWithoutZtocFor(LAYER_1, unpacker);
    assertThrows(
        AlreadyExistsException.class,
        () -> snapshotter.prepare(NAMESPACE, "k1", "", criLabels(CHAIN_1, LAYER_1)));

    // The unpack waits for the gate, as a long download would, until it is interrupted.
    inBackground(
            () -> {
              snapshotter.remove(CHAIN_1);
              return null;
            })
        .get(30, TimeUnit.SECONDS);

    assertThat(unpacker.unpacks).isEmpty();
    assertThat(Files.exists(snapshots().resolve("1"))).isFalse();
    assertThrows(NotFoundException.class, () -> snapshotter.stat(CHAIN_1));
  }

  @Test
  void prepare_layerWithoutZtoc_commitsBeforeTheUnpack() throws Exception {
    RecordingUnpacker unpacker = new RecordingUnpacker();
    unpacker.gate.drainPermits();
    RecordingMounter mounter = openWithoutZtocFor(LAYER_1, unpacker);

    prepareTwoRemoteLayers();
    SnapshotInfo committed = snapshotter.stat(CHAIN_1);
    assertThat(committed.kind()).isEqualTo(Kind.COMMITTED);
    assertThat(committed.labels())
        .containsEntry("containerd.io/snapshot/remote/has.soci.index.digest", "true");
    assertThat(committed.labels()).doesNotContainKey("containerd.io/snapshot/remote");
    assertThat(committed.labels()).doesNotContainKey("containerd.io/snapshot/remote/namespace");
    assertThat(Files.readString(snapshots().resolve("1").resolve("unpacking")))
        .isEqualTo(NAMESPACE);
    CompletableFuture<List<Mount>> container =
        inBackground(() -> snapshotter.prepare(NAMESPACE, "container", CHAIN_2, Map.of()));
    Thread.sleep(200);
    boolean doneBeforeUnpack = container.isDone();
    unpacker.gate.release(Integer.MAX_VALUE);

    assertThat(doneBeforeUnpack).isFalse();
    assertThat(container.get(30, TimeUnit.SECONDS)).hasSize(1);
    assertThat(Files.readString(Path.of(fs(1), "etc", "layer.txt"))).isEqualTo(LAYER_1);
    assertThat(snapshotter.usage(CHAIN_1).inodes()).isGreaterThan(0);
    assertThat(Files.exists(snapshots().resolve("1").resolve("unpacking"))).isFalse();
    assertThat(snapshotter.stat(CHAIN_1).labels()).isEqualTo(committed.labels());
    assertThat(mounter.mounts.stream().map(RecordingMounter.MountCall::mountpoint).toList())
        .containsExactly(Path.of(fs(2)));
    assertThat(mounter.checks).containsExactly(Path.of(fs(2)));
  }

  @Test
  void backgroundUnpackFails_laterUseRetries() throws Exception {
    RecordingUnpacker unpacker = new RecordingUnpacker();
    unpacker.failing = true;
    openWithoutZtocFor(LAYER_1, unpacker);
    prepareTwoRemoteLayers();

    UnavailableException e =
        assertThrows(
            UnavailableException.class,
            () -> snapshotter.prepare(NAMESPACE, "container", CHAIN_2, Map.of()));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer "
                + LAYER_1
                + " (snapshot \""
                + CHAIN_1
                + "\") is not unpacked: unpacking it in the snapshotter failed (uncompressed"
                + " digests did not match); it is tried again 10 s after the last attempt, when"
                + " the layer is next used: unavailable");
    try (var left = Files.list(Path.of(fs(1)))) {
      assertThat(left.toList()).isEmpty();
    }
    // Before the interval, a use fails at once without a download.
    assertThrows(
        UnavailableException.class,
        () -> snapshotter.prepare(NAMESPACE, "container-2", CHAIN_2, Map.of()));
    assertThat(unpacker.unpacks).hasSize(1);

    unpacker.failing = false;
    elapsed = Snapshotter.RESTORE_RETRY_INTERVAL;
    List<Mount> mounts = snapshotter.prepare(NAMESPACE, "container-3", CHAIN_2, Map.of());

    assertThat(mounts).hasSize(1);
    assertThat(unpacker.unpacks).hasSize(2);
    assertThat(Files.readString(Path.of(fs(1), "etc", "layer.txt"))).isEqualTo(LAYER_1);
    assertThat(Files.exists(snapshots().resolve("1").resolve("unpacking"))).isFalse();
  }

  @Test
  void closeDuringUnpack_nextStartUnpacks() throws Exception {
    RecordingUnpacker unpacker = new RecordingUnpacker();
    unpacker.gate.drainPermits();
    openWithoutZtocFor(LAYER_1, unpacker);
    assertThrows(
        AlreadyExistsException.class,
        () -> snapshotter.prepare(NAMESPACE, "k1", "", criLabels(CHAIN_1, LAYER_1)));

    snapshotter.close();
    snapshotter = null;
    assertThat(unpacker.unpacks).isEmpty();

    RecordingUnpacker restartedUnpacker = new RecordingUnpacker();
    open(new RecordingMounter(), restartedUnpacker);
    assertThat(snapshotter.restoreRemoteSnapshots()).isEqualTo(0);
    List<Mount> mounts = snapshotter.view("view", CHAIN_1, Map.of());

    assertThat(mounts).hasSize(1);
    assertThat(restartedUnpacker.unpacks).hasSize(1);
    assertThat(restartedUnpacker.unpacks.get(0).request().namespace()).isEqualTo(NAMESPACE);
    assertThat(Files.readString(Path.of(fs(1), "etc", "layer.txt"))).isEqualTo(LAYER_1);
    assertThat(Files.exists(snapshots().resolve("1").resolve("unpacking"))).isFalse();
  }

  @Test
  void restart_unpackWaitsForMountBelow() throws Exception {
    RecordingUnpacker unpacker = new RecordingUnpacker();
    unpacker.gate.drainPermits();
    openWithoutZtocFor(LAYER_2, unpacker);
    prepareTwoRemoteLayers();
    snapshotter.close();
    snapshotter = null;

    RecordingMounter restartedMounter = new RecordingMounter();
    restartedMounter.mountGate.drainPermits();
    RecordingUnpacker restartedUnpacker = new RecordingUnpacker();
    open(restartedMounter, restartedUnpacker);
    CompletableFuture<Integer> restore = inBackground(() -> snapshotter.restoreRemoteSnapshots());
    Thread.sleep(200);
    int unpacksBeforeMount = restartedUnpacker.unpacks.size();
    restartedMounter.mountGate.release(Integer.MAX_VALUE);

    assertThat(unpacksBeforeMount).isEqualTo(0);
    assertThat(restore.get(30, TimeUnit.SECONDS)).isEqualTo(1);
    assertThat(snapshotter.view("view", CHAIN_2, Map.of())).hasSize(1);
    assertThat(restartedUnpacker.unpacks).hasSize(1);
    assertThat(Files.readString(Path.of(fs(2), "etc", "layer.txt"))).isEqualTo(LAYER_2);
  }

  /** Runs {@code call} on another thread, as a second containerd client would. */
  private static <T> CompletableFuture<T> inBackground(Callable<T> call) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return call.call();
          } catch (Exception e) {
            throw new CompletionException(e);
          }
        });
  }

  /**
   * Opens the snapshotter with a mounter whose index lists a zTOC for every layer but {@code
   * layer}.
   */
  private RecordingMounter openWithoutZtocFor(String layer, RecordingUnpacker unpacker)
      throws IOException {
    RecordingMounter mounter = new RecordingMounter();
    mounter.findsZtocs = true;
    mounter.ztoclessLayerDigests.add(layer);
    open(mounter, unpacker);
    return mounter;
  }

  /** Prepares LAYER_1 and LAYER_2 on it as remote layers, committed as CHAIN_1 and CHAIN_2. */
  private void prepareTwoRemoteLayers() {
    assertThrows(
        AlreadyExistsException.class,
        () -> snapshotter.prepare(NAMESPACE, "k1", "", criLabels(CHAIN_1, LAYER_1)));
    assertThrows(
        AlreadyExistsException.class,
        () -> snapshotter.prepare(NAMESPACE, "k2", CHAIN_1, criLabels(CHAIN_2, LAYER_2)));
  }

  @Test
  void close_unmountsRemoteLayersAtOnce() throws Exception {
    // Each unmount returns only once both have started, as busy layers wait for their users.
    CountDownLatch bothStarted = new CountDownLatch(2);
    List<Boolean> sawTheOther = new CopyOnWriteArrayList<>();
    RecordingMounter mounter =
        new RecordingMounter() {
          @Override
          public void unmount(Path mountpoint) {
            bothStarted.countDown();
            try {
              sawTheOther.add(bothStarted.await(5, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            super.unmount(mountpoint);
          }
        };
    open(mounter);
    prepareTwoRemoteLayers();

    snapshotter.close();
    snapshotter = null;

    assertThat(sawTheOther).containsExactly(true, true);
    assertThat(mounter.unmounts).containsExactly(Path.of(fs(1)), Path.of(fs(2)));
  }

  @Test
  void restore_mountsRemoteSnapshotsAgain_andKeepsGoingPastOneThatFails() throws Exception {
    RecordingMounter first = new RecordingMounter();
    open(first);
    prepareTwoRemoteLayers();
    commitLayer("local", "k3", "");
    snapshotter.close();

    RecordingMounter second = new RecordingMounter();
    second.failingLayerDigests.add(LAYER_1);
    open(second);
    int restored = snapshotter.restoreRemoteSnapshots();

    assertThat(restored).isEqualTo(1);
    assertThat(second.mounts.stream().map(RecordingMounter.MountCall::mountpoint).toList())
        .containsExactly(Path.of(fs(1)), Path.of(fs(2)));
    RecordingMounter.MountCall layer2 =
        second.mounts.stream()
            .filter(call -> call.mountpoint().equals(Path.of(fs(2))))
            .findFirst()
            .orElseThrow();
    assertThat(layer2.request().labels())
        .containsEntry("containerd.io/snapshot/cri.layer-digest", LAYER_2);
    assertThat(layer2.request().namespace()).isEqualTo(NAMESPACE);
    // The snapshot that failed leaves no mount behind, not even a dead one of the last run.
    assertThat(second.unmounts).containsExactly(Path.of(fs(1)));

    // The snapshot that failed makes every snapshot above it unavailable...
    snapshotter.prepare(NAMESPACE, "container", "local", Map.of());
    UnavailableException e =
        assertThrows(
            UnavailableException.class,
            () -> snapshotter.prepare(NAMESPACE, "container-2", CHAIN_2, Map.of()));
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "lazily mounted layer "
                + LAYER_1
                + " (snapshot \""
                + CHAIN_1
                + "\") is not mounted: mounting it failed (no zTOC for"
                + " layer "
                + LAYER_1
                + "); it is tried again 10 s after the last attempt, when the layer is next used:"
                + " unavailable");

    // ... and stays removable.
    snapshotter.remove("container-2");
    snapshotter.remove(CHAIN_2);
    snapshotter.remove(CHAIN_1);
    assertThat(snapshotter.list(List.of()).stream().map(SnapshotInfo::name).toList())
        .containsExactly("local", "container");
  }

  @Test
  void restore_withoutMounter_leavesRemoteSnapshotsUnavailable() throws Exception {
    open(new RecordingMounter());
    assertThrows(
        AlreadyExistsException.class,
        () -> snapshotter.prepare(NAMESPACE, "k1", "", criLabels(CHAIN_1, LAYER_1)));
    snapshotter.close();

    open();
    assertThat(snapshotter.restoreRemoteSnapshots()).isEqualTo(0);

    UnavailableException e =
        assertThrows(
            UnavailableException.class,
            () -> snapshotter.prepare(NAMESPACE, "container", CHAIN_1, Map.of()));
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "lazily mounted layer "
                + LAYER_1
                + " (snapshot \""
                + CHAIN_1
                + "\") is not mounted: mounting it failed (no remote"
                + " layer mounter is configured); it is tried again 10 s after the last attempt,"
                + " when the layer is next used: unavailable");
  }

  @Test
  void restore_failed_isTriedAgainOnNextUse() throws Exception {
    RecordingMounter first = new RecordingMounter();
    open(first);
    prepareTwoRemoteLayers();
    snapshotter.close();
    RecordingMounter second = new RecordingMounter();
    second.failingLayerDigests.add(LAYER_1);
    open(second);
    snapshotter.restoreRemoteSnapshots();

    // Within the interval the layer is not tried again; after it, the registry is back.
    assertThrows(
        UnavailableException.class,
        () -> snapshotter.prepare(NAMESPACE, "container", CHAIN_2, Map.of()));
    int attempts = second.mounts.size();
    second.failingLayerDigests.clear();
    elapsed = Snapshotter.RESTORE_RETRY_INTERVAL.plusSeconds(1);
    snapshotter.prepare(NAMESPACE, "container-2", CHAIN_2, Map.of());

    assertThat(second.mounts).hasSize(attempts + 1);
    assertThat(second.mounts.get(attempts).mountpoint()).isEqualTo(Path.of(fs(1)));
  }
}
