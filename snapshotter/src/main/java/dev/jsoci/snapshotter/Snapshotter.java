package dev.jsoci.snapshotter;

import dev.jsoci.fs.LowerDirectories;
import dev.jsoci.fs.LowerLayers;
import dev.jsoci.snapshotter.errdefs.AlreadyExistsException;
import dev.jsoci.snapshotter.errdefs.FailedPreconditionException;
import dev.jsoci.snapshotter.errdefs.InvalidArgumentException;
import dev.jsoci.snapshotter.errdefs.SnapshotException;
import dev.jsoci.snapshotter.errdefs.UnavailableException;
import dev.jsoci.snapshotter.metadata.Kind;
import dev.jsoci.snapshotter.metadata.MetadataStore;
import dev.jsoci.snapshotter.metadata.SnapshotFilter;
import dev.jsoci.snapshotter.metadata.SnapshotInfo;
import dev.jsoci.snapshotter.metadata.SnapshotRecord;
import dev.jsoci.snapshotter.metadata.Usage;
import dev.jsoci.ztoc.ByteString;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * containerd's snapshot operations over overlayfs directories under {@code <root>/snapshotter},
 * with remote (lazily pulled) layers mounted through a {@link RemoteLayerMounter} when one is
 * configured.
 *
 * <p>Records live in {@code metadata.db}, directories in {@code snapshots/<id>}. A new snapshot's
 * directory is made and renamed into place inside the transaction that writes its record, and is
 * deleted again if that transaction fails, so a snapshot exists either with its directory or not at
 * all. {@link #remove} deletes the directory after the record; a directory left by a crash has no
 * record and goes away in {@link #cleanup}.
 *
 * <p>Remote snapshots: a {@code Prepare} whose labels name an image layer and a target name ({@code
 * containerd.io/snapshot.ref}) mounts the layer on the new snapshot's {@code fs}, commits it under
 * the target name and fails with {@link AlreadyExistsException}. containerd reads that error as
 * "the layer is ready" and does not download it. When the image has a SOCI index but the layer
 * cannot be mounted, a {@link LocalLayerUnpacker} downloads and unpacks it into {@code fs}, and the
 * snapshot is committed the same way but as an ordinary snapshot with its disk usage. containerd
 * 1.6 needs this: once it must fetch one layer itself, it also fetches every layer above it. A
 * layer that the index leaves out (it has no zTOC) is committed at once and unpacked in the
 * background, as a lazy layer is mounted in the background. Without a mounter, for an image without
 * a SOCI index, or when the local unpack in the {@code Prepare} fails, the {@code Prepare} returns
 * the active snapshot's mounts and containerd unpacks the layer itself.
 *
 * <p>Thread safety: all methods may be called concurrently. See {@code CONCURRENCY.md}.
 */
public final class Snapshotter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Snapshotter.class);

  /** How many layers {@link #close} unmounts at once. */
  private static final int CLOSING_UNMOUNTS = 128;

  /**
   * The file in a committed snapshot's directory while its layer waits to be unpacked in the
   * background. It contains the containerd namespace of the {@code Prepare}, which a restart needs
   * to read the layer again.
   */
  private static final String UNPACK_MARKER = "unpacking";

  /** How many layers {@link #restoreRemoteSnapshots} mounts at once. */
  private static final int RESTORING_MOUNTS = 16;

  /** How long a snapshot that failed to restore waits before its next use tries again. */
  static final Duration RESTORE_RETRY_INTERVAL = Duration.ofSeconds(10);

  private final MetadataStore store;
  private final SnapshotDirectories directories;
  private final OverlayMounts overlayMounts;
  private final Optional<RemoteLayerMounter> mounter;
  private final Optional<LocalLayerUnpacker> localUnpacker;
  private final long minLayerSizeBytes;
  private final SnapshotterListener listener;
  private final Clock clock;
  private final FaultInjection faults;

  /** A remote snapshot that could not be mounted, why, and when that was last tried. */
  private record Unrestored(String error, Instant attempted) {}

  /** Remote snapshots that could not be mounted, after a restart or in the background, by id. */
  private final Map<Long, Unrestored> unrestored = new ConcurrentHashMap<>();

  /** Serializes the restore attempts of each snapshot, by id. */
  private final Map<Long, Object> restoreLocks = new ConcurrentHashMap<>();

  /** Mountpoints where the mounter mounted a layer and nothing unmounted it yet. */
  private final Set<Path> mounted = ConcurrentHashMap.newKeySet();

  /** Committed snapshots being mounted or unpacked in the background, by id. */
  private final Map<Long, CompletableFuture<Void>> pending = new ConcurrentHashMap<>();

  /**
   * The threads running background work, by snapshot id. {@link #remove} interrupts them through
   * {@link Map#computeIfPresent}, which cannot overlap the removal of their entry.
   */
  private final Map<Long, Thread> backgroundWorkers = new ConcurrentHashMap<>();

  /** Snapshots that {@link #remove} is removing, whose background work stops without a retry. */
  private final Set<Long> removing = ConcurrentHashMap.newKeySet();

  /**
   * Set by {@link #close}: background mounts that fail then leave their layers to the next start.
   */
  private volatile boolean closing;

  /** Mounts remote snapshots after their {@code Prepare} has returned. */
  private final ExecutorService backgroundMounts =
      Executors.newCachedThreadPool(DaemonThreads.numbered("jsoci-mount-"));

  Snapshotter(
      MetadataStore store,
      SnapshotDirectories directories,
      OverlayOptions overlayOptions,
      SnapshotterOptions options,
      Clock clock,
      FaultInjection faults) {
    this.store = store;
    this.directories = directories;
    this.overlayMounts = new OverlayMounts(directories, overlayOptions);
    this.mounter = options.mounter();
    this.localUnpacker = options.localUnpacker();
    this.minLayerSizeBytes = options.minLayerSizeBytes();
    this.listener = options.listener();
    this.clock = clock;
    this.faults = faults;
  }

  /**
   * Opens the snapshotter under {@code root}, creating {@code root}, {@code root/snapshotter} and
   * its {@code snapshots} directory (all mode 0700) and the database when missing. Does not restore
   * remote snapshots; call {@link #restoreRemoteSnapshots()} for that.
   *
   * <p>Warning: close it, or the database stays open and remote layers stay mounted.
   */
  public static Snapshotter open(Path root, SnapshotterOptions options) throws IOException {
    Path snapshotterRoot = root.resolve("snapshotter");
    for (Path directory : List.of(root, snapshotterRoot)) {
      Files.createDirectories(directory);
      Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
    }
    SnapshotDirectories directories = new SnapshotDirectories(snapshotterRoot.resolve("snapshots"));
    directories.create();
    MetadataStore store = MetadataStore.open(snapshotterRoot.resolve("metadata.db"));
    return new Snapshotter(
        store,
        directories,
        OverlayOptions.detect(),
        options,
        Clock.systemUTC(),
        FaultInjection.NONE);
  }

  /**
   * Creates the active snapshot {@code key} on top of the committed snapshot {@code parent} (empty
   * for none) and returns its mounts, or mounts a remote layer (see the class comment).
   *
   * @param namespace the caller's containerd namespace, empty when it sent none
   * @throws AlreadyExistsException if {@code key} exists, or when the layer was mounted remotely or
   *     unpacked by the snapshotter
   */
  public List<Mount> prepare(
      String namespace, String key, String parent, Map<String, String> labels)
      throws SnapshotException, IOException {
    SnapshotRecord active = createSnapshot(Kind.ACTIVE, key, parent, labels);

    String target = labels.getOrDefault(SnapshotLabels.TARGET, "");
    if (target.isEmpty() || mounter.isEmpty() || !RemoteLayerRequest.describesLayer(labels)) {
      return mounts(active);
    }
    String effectiveNamespace = namespace.isEmpty() ? namespaceOfKey(key) : namespace;
    return prepareRemote(
        mounter.get(), effectiveNamespace, active, target, labels, System.nanoTime());
  }

  /**
   * Returns the namespace that containerd's metadata layer puts in front of a backend key ({@code
   * <namespace>/<sequence>/<client key>}), or an empty string when {@code key} has no such prefix.
   * containerd 1.6.20 sends no {@code containerd-namespace} header to a proxy snapshotter, so the
   * key is the only place that names the namespace.
   */
  static String namespaceOfKey(String key) {
    String[] parts = key.split("/", 3);
    if (parts.length < 3 || parts[0].isEmpty() || !parts[1].matches("[0-9]+")) {
      return "";
    }
    return parts[0];
  }

  private List<Mount> prepareRemote(
      RemoteLayerMounter mounter,
      String namespace,
      SnapshotRecord active,
      String target,
      Map<String, String> labels,
      long startNanos)
      throws SnapshotException, IOException {
    String key = active.info().name();
    // containerd passes the target name without its namespace, so a layer that another namespace
    // pulled is committed already: it is shared without reading or mounting it again.
    if (store.read(tx -> tx.find(target)).isPresent()) {
      throw targetExists(key, target);
    }
    Optional<String> skipReason = remoteSkipReason(namespace, labels);
    if (skipReason.isPresent()) {
      return deferToRuntime(active, target, skipReason.get(), startNanos);
    }

    RemoteLayerRequest request;
    try {
      request = RemoteLayerRequest.fromLabels(namespace, labels);
    } catch (IllegalArgumentException e) {
      LOG.atWarn()
          .addKeyValue("key", key)
          .addKeyValue("target", target)
          .addKeyValue("remote-snapshot-prepared", "false")
          .addKeyValue("error", e.getMessage())
          .log("cannot read the layer from the labels");
      return deferToRuntime(active, target, "the layer labels are invalid", startNanos);
    }

    // When the index lists the layer's zTOC, the layer is committed at once and mounted in the
    // background, so that containerd prepares the next layers while the zTOCs download. Otherwise
    // it is mounted here, on the active snapshot's own directory.
    Path mountpoint = directories.fs(active.id());
    boolean inBackground;
    try {
      inBackground = mounter.findZtoc(request);
      if (!inBackground) {
        mounter.mount(request, mountpoint, new LowerDirectories(lowerDirectories(active)));
        mounted.add(mountpoint);
      }
    } catch (IOException | IllegalArgumentException e) {
      // A SOCI index leaves out small layers on purpose, so a layer without a zTOC is no fault.
      LOG.atLevel(e instanceof FuseLayerMounter.NoZtocException ? Level.INFO : Level.WARN)
          .addKeyValue("key", key)
          .addKeyValue("target", target)
          .addKeyValue("remote-snapshot-prepared", "false")
          .addKeyValue("error", e.getMessage())
          .log("cannot mount layer remotely");
      listener.layerMountFailed(mountFailureOf(e));
      if (e instanceof NoSociIndexException) {
        return deferToRuntime(
            active, target, "no usable SOCI index or zTOC for the layer", startNanos);
      }
      if (localUnpacker.isEmpty()) {
        return deferToRuntime(active, target, "the remote mount failed", startNanos);
      }
      if (e instanceof FuseLayerMounter.NoZtocException) {
        return commitAndUnpack(localUnpacker.get(), request, active, target, labels, startNanos);
      }
      return prepareLocal(localUnpacker.get(), request, active, target, labels, startNanos);
    }

    // Commit it under the target name, with labels that let a restart mount it again.
    Map<String, String> committedLabels = new TreeMap<>(labels);
    committedLabels.put(SnapshotLabels.REMOTE, SnapshotLabels.REMOTE_VALUE);
    committedLabels.put(SnapshotLabels.REMOTE_NAMESPACE, namespace);
    committedLabels.put(SnapshotLabels.HAS_SOCI_INDEX_DIGEST, "true");
    CompletableFuture<Void> mounting = new CompletableFuture<>();
    SnapshotRecord committed =
        commitWithPending(
            active, target, Usage.ZERO, committedLabels, inBackground ? mounting : null);
    if (inBackground) {
      runInBackground(committed, mounting, () -> materialize(committed, false), "mounting");
    }
    LOG.atInfo()
        .addKeyValue("key", key)
        .addKeyValue("target", target)
        .addKeyValue("layer", request.layerDigest().toString())
        .addKeyValue("mountpoint", mountpoint.toString())
        .addKeyValue("remote-snapshot-prepared", "true")
        .log(inBackground ? "committed layer; mounting it remotely" : "mounted layer remotely");
    listener.remotePrepared(
        SnapshotterListener.PrepareOutcome.LAZY, System.nanoTime() - startNanos);
    throw new AlreadyExistsException("target snapshot \"" + target + "\"");
  }

  /**
   * Commits the active snapshot {@code active} under {@code target} with {@code usage}. When {@code
   * work} is given, it is pending for the snapshot before the commit, so that no caller finds the
   * snapshot committed while its contents are neither there nor on their way.
   *
   * @throws AlreadyExistsException if another {@code Prepare} committed {@code target} first; this
   *     one is removed then
   */
  private SnapshotRecord commitWithPending(
      SnapshotRecord active,
      String target,
      Usage usage,
      Map<String, String> labels,
      @Nullable CompletableFuture<Void> work)
      throws SnapshotException, IOException {
    String key = active.info().name();
    if (work != null) {
      pending.put(active.id(), work);
    }
    try {
      return store.write(tx -> tx.commitActive(key, target, usage, labels, clock.instant()));
    } catch (AlreadyExistsException e) {
      // Another Prepare committed the same layer first; this one's work is not needed.
      endPending(active.id(), work);
      throw targetExists(key, target);
    } catch (SnapshotException | IOException | RuntimeException e) {
      endPending(active.id(), work);
      throw e;
    }
  }

  /**
   * Removes the active snapshot {@code key}, whose target is committed already, and returns the
   * error that tells containerd to use that target.
   */
  private AlreadyExistsException targetExists(String key, String target) {
    LOG.atInfo()
        .addKeyValue("key", key)
        .addKeyValue("target", target)
        .log("target snapshot exists already; removing this one");
    removeQuietly(key);
    return new AlreadyExistsException("target snapshot \"" + target + "\"");
  }

  /** Returns the labels of a layer that the snapshotter unpacks: without the remote label. */
  private static Map<String, String> unpackedLabels(Map<String, String> labels) {
    Map<String, String> unpacked = new TreeMap<>(labels);
    unpacked.put(SnapshotLabels.HAS_SOCI_INDEX_DIGEST, "true");
    return unpacked;
  }

  private void endPending(long id, @Nullable CompletableFuture<Void> work) {
    if (work != null) {
      pending.remove(id, work);
      work.complete(null);
    }
  }

  /**
   * Runs {@code work} for the committed snapshot {@code record} on a background thread, and
   * completes {@code done}, pending for the snapshot, when it ends: when the layer is mounted or
   * unpacked, or when that failed and the snapshot is recorded as unrestored.
   *
   * @param doing what the work does, for the error when the snapshotter is already closing
   */
  private void runInBackground(
      SnapshotRecord record, CompletableFuture<Void> done, Runnable work, String doing) {
    Runnable task =
        () -> {
          backgroundWorkers.put(record.id(), Thread.currentThread());
          try {
            if (!removing.contains(record.id())) {
              work.run();
            }
          } finally {
            backgroundWorkers.remove(record.id());
            // An interrupt from remove() that came after the work had ended must not reach the
            // next task of this pooled thread.
            Thread.interrupted();
            endPending(record.id(), done);
          }
        };
    try {
      backgroundMounts.execute(task);
    } catch (RejectedExecutionException e) {
      // The snapshotter is closing; the next start mounts or unpacks the layer again.
      unrestored.put(
          record.id(),
          new Unrestored("the snapshotter closed before " + doing + " it", clock.instant()));
      endPending(record.id(), done);
    }
  }

  /**
   * Commits the layer of {@code active}, which the image's SOCI index leaves out, under {@code
   * target} as an ordinary snapshot, unpacks it on a background thread and fails with {@link
   * AlreadyExistsException}. containerd goes on to the next layer meanwhile, and snapshots above
   * wait for the unpack as for a background mount. The marker file lets a restart unpack it again.
   */
  private List<Mount> commitAndUnpack(
      LocalLayerUnpacker unpacker,
      RemoteLayerRequest request,
      SnapshotRecord active,
      String target,
      Map<String, String> labels,
      long startNanos)
      throws SnapshotException, IOException {
    Files.writeString(unpackMarker(active.id()), request.namespace());
    // The labels are final at the commit: containerd keeps a copy of them from then on.
    CompletableFuture<Void> unpacking = new CompletableFuture<>();
    SnapshotRecord committed =
        commitWithPending(active, target, Usage.ZERO, unpackedLabels(labels), unpacking);
    runInBackground(
        committed, unpacking, () -> unpackPending(unpacker, committed, request), "unpacking");
    LOG.atInfo()
        .addKeyValue("key", active.info().name())
        .addKeyValue("target", target)
        .addKeyValue("layer", request.layerDigest().toString())
        .log("committed layer; unpacking it in the snapshotter");
    listener.remotePrepared(
        SnapshotterListener.PrepareOutcome.UNPACKED, System.nanoTime() - startNanos);
    throw new AlreadyExistsException("target snapshot \"" + target + "\"");
  }

  private Path unpackMarker(long id) {
    return directories.directory(id).resolve(UNPACK_MARKER);
  }

  /**
   * Unpacks the layer of {@code record}, committed by {@link #commitAndUnpack}, and removes its
   * marker. When that fails, records the snapshot as unrestored, unless the daemon is stopping.
   * Returns whether the layer is unpacked.
   */
  private boolean unpackPending(
      LocalLayerUnpacker unpacker, SnapshotRecord record, RemoteLayerRequest request) {
    String error = unpackInstead(unpacker, record, request);
    if (error == null) {
      unrestored.remove(record.id());
      return true;
    }
    if (removing.contains(record.id())) {
      LOG.atInfo()
          .addKeyValue("snapshot", record.info().name())
          .log("stopped unpacking layer: its snapshot was removed");
      return false;
    }
    if (closing) {
      // A Prepare still waiting for the layer then fails instead of using an empty directory.
      unrestored.put(
          record.id(), new Unrestored("the daemon stopped before unpacking it", clock.instant()));
      LOG.atInfo()
          .addKeyValue("snapshot", record.info().name())
          .addKeyValue("error", error)
          .log("stopped unpacking layer: the daemon is stopping; its next start unpacks it");
      return false;
    }
    unrestored.put(record.id(), new Unrestored(error, clock.instant()));
    LOG.atError()
        .addKeyValue("snapshot", record.info().name())
        .addKeyValue("layer", request.layerDigest().toString())
        .addKeyValue("error", error)
        .log(
            "cannot unpack layer in the snapshotter; its next use tries again after "
                + RESTORE_RETRY_INTERVAL.toSeconds()
                + " s, or remove it through containerd");
    return false;
  }

  /**
   * Unpacks the layer of {@code record}, whose directory contains the marker of {@link
   * #commitAndUnpack}, with the namespace the marker names. Returns whether the layer is unpacked.
   */
  private boolean unpackFromMarker(SnapshotRecord record) {
    RemoteLayerRequest request;
    try {
      if (localUnpacker.isEmpty()) {
        throw new IOException("no local layer unpacker is configured");
      }
      String namespace = Files.readString(unpackMarker(record.id())).trim();
      request = RemoteLayerRequest.fromLabels(namespace, record.info().labels());
    } catch (IOException | IllegalArgumentException e) {
      unrestored.put(record.id(), new Unrestored(restoreError(e), clock.instant()));
      LOG.atError()
          .addKeyValue("snapshot", record.info().name())
          .addKeyValue("error", restoreError(e))
          .log("cannot unpack layer in the snapshotter; remove it through containerd");
      return false;
    }
    return unpackPending(localUnpacker.get(), record, request);
  }

  /**
   * Waits until the background mounts of the snapshots {@code ids} have ended, and returns the ids
   * of those that were still running.
   *
   * @throws InterruptedIOException if interrupted meanwhile
   */
  private Set<Long> awaitPending(List<Long> ids) throws InterruptedIOException {
    Set<Long> waited = new HashSet<>();
    for (long id : ids) {
      CompletableFuture<Void> mounting = pending.get(id);
      if (mounting == null) {
        continue;
      }
      waited.add(id);
      try {
        mounting.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while a layer below was being mounted");
      } catch (ExecutionException e) {
        // Background mounts only complete normally, so this is a bug.
        throw new IllegalStateException("a background mount failed", e.getCause());
      }
    }
    return waited;
  }

  /**
   * Returns the layers below {@code record} as a mount of it reads them: only when the layer leaves
   * out a parent directory, and only after the layers below are mounted or unpacked.
   */
  private LowerLayers lowerLayersOf(SnapshotRecord record) {
    List<Long> parents = record.parentIds();
    LowerDirectories directoriesBelow = new LowerDirectories(lowerDirectories(record));
    return new LowerLayers() {
      private volatile boolean ready;

      @Override
      public Entry lookup(ByteString path) {
        if (!ready) {
          try {
            awaitPending(parents);
            for (long parent : parents) {
              Unrestored failed = unrestored.get(parent);
              if (failed != null) {
                throw new IOException("a layer below is not mounted: " + failed.error());
              }
            }
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          ready = true;
        }
        return directoriesBelow.lookup(path);
      }
    };
  }

  /**
   * Unpacks the layer into the active snapshot's {@code fs}, commits it under {@code target} as an
   * ordinary snapshot with its disk usage and fails with {@link AlreadyExistsException}. When the
   * unpack fails, empties {@code fs} and returns the active snapshot's mounts instead, so that
   * containerd applies the layer itself.
   */
  private List<Mount> prepareLocal(
      LocalLayerUnpacker unpacker,
      RemoteLayerRequest request,
      SnapshotRecord active,
      String target,
      Map<String, String> labels,
      long startNanos)
      throws SnapshotException, IOException {
    String key = active.info().name();
    // Computing the mounts runs the availability check of the layers below; its error is returned.
    List<Mount> mounts = mounts(active);

    Path fs = directories.fs(active.id());
    Path temporaryTar = directories.directory(active.id()).resolve("layer.tar");
    try {
      unpacker.unpack(request, fs, temporaryTar, lowerDirectories(active));
    } catch (IOException | RuntimeException e) {
      LOG.atWarn()
          .addKeyValue("key", key)
          .addKeyValue("target", target)
          .addKeyValue("layer", request.layerDigest().toString())
          .addKeyValue("local-snapshot-prepared", "false")
          .addKeyValue("error", e.getMessage())
          .log("cannot unpack layer in the snapshotter");
      Files.deleteIfExists(temporaryTar);
      SnapshotDirectories.deleteContents(fs);
      LOG.atInfo()
          .addKeyValue("key", key)
          .addKeyValue("target", target)
          .addKeyValue("defer-snapshot-runtime", "true")
          .log("deferring the layer to the container runtime: the local unpack failed");
      listener.remotePrepared(
          SnapshotterListener.PrepareOutcome.DEFERRED, System.nanoTime() - startNanos);
      return mounts;
    }

    // An ordinary committed snapshot: without the remote label, a restart does not mount it again.
    commitWithPending(
        active, target, SnapshotDirectories.diskUsage(fs), unpackedLabels(labels), null);
    LOG.atInfo()
        .addKeyValue("key", key)
        .addKeyValue("target", target)
        .addKeyValue("layer", request.layerDigest().toString())
        .addKeyValue("local-snapshot-prepared", "true")
        .log("unpacked layer in the snapshotter");
    listener.remotePrepared(
        SnapshotterListener.PrepareOutcome.UNPACKED, System.nanoTime() - startNanos);
    throw new AlreadyExistsException("target snapshot \"" + target + "\"");
  }

  private Optional<String> remoteSkipReason(String namespace, Map<String, String> labels) {
    if (namespace.isEmpty()) {
      return Optional.of("the request carries no containerd namespace");
    }
    if (minLayerSizeBytes > 0) {
      OptionalLong size = parseSize(labels.get(SnapshotLabels.SOCI_SIZE));
      if (size.isPresent() && size.getAsLong() < minLayerSizeBytes) {
        return Optional.of(
            "the layer is smaller than min_layer_size (" + minLayerSizeBytes + " bytes)");
      }
    }
    return Optional.empty();
  }

  private List<Mount> deferToRuntime(
      SnapshotRecord active, String target, String reason, long startNanos)
      throws SnapshotException, IOException {
    LOG.atInfo()
        .addKeyValue("key", active.info().name())
        .addKeyValue("target", target)
        .addKeyValue("defer-snapshot-runtime", "true")
        .log("deferring the layer to the container runtime: " + reason);
    List<Mount> mounts = mounts(active);
    listener.remotePrepared(
        SnapshotterListener.PrepareOutcome.DEFERRED, System.nanoTime() - startNanos);
    return mounts;
  }

  static SnapshotterListener.MountFailure mountFailureOf(Exception e) {
    // Only an image without an index counts as having none. An index or zTOC that cannot be read
    // (a registry error, a missing or corrupt blob) is an error.
    if (e instanceof NoSociIndexException) {
      return e.getCause() == null
          ? SnapshotterListener.MountFailure.NO_INDEX
          : SnapshotterListener.MountFailure.ERROR;
    }
    if (e instanceof FuseLayerMounter.NoZtocException) {
      return SnapshotterListener.MountFailure.NO_ZTOC;
    }
    return SnapshotterListener.MountFailure.ERROR;
  }

  /**
   * Creates the view snapshot {@code key} of the committed snapshot {@code parent} and returns its
   * read-only mounts.
   */
  public List<Mount> view(String key, String parent, Map<String, String> labels)
      throws SnapshotException, IOException {
    return mounts(createSnapshot(Kind.VIEW, key, parent, labels));
  }

  /**
   * Returns the mounts of the active or view snapshot {@code key}.
   *
   * @throws FailedPreconditionException if {@code key} is committed
   * @throws UnavailableException if a remote layer below it cannot serve reads
   */
  public List<Mount> mounts(String key) throws SnapshotException, IOException {
    SnapshotRecord record = store.read(tx -> tx.get(key));
    if (record.info().kind() == Kind.COMMITTED) {
      throw new FailedPreconditionException("requested snapshot " + key + " not active or view");
    }
    return mounts(record);
  }

  /** Returns the directories of the snapshots below {@code record}, the nearest first. */
  private List<Path> lowerDirectories(SnapshotRecord record) {
    List<Path> lowers = new ArrayList<>();
    for (long parent : record.parentIds()) {
      lowers.add(directories.fs(parent));
    }
    return lowers;
  }

  private List<Mount> mounts(SnapshotRecord record) throws SnapshotException, IOException {
    checkRemoteParents(record);
    return overlayMounts.of(record);
  }

  /** Runs the availability check of every remote layer below {@code record}. */
  private void checkRemoteParents(SnapshotRecord record) throws SnapshotException, IOException {
    if (record.parentIds().isEmpty()) {
      return;
    }
    // A layer mounted in the background may have been unpacked instead, so its labels are read
    // after the wait. A layer whose background attempt just failed is not tried again at once.
    long unfinished =
        record.parentIds().stream()
            .map(pending::get)
            .filter(work -> work != null && !work.isDone())
            .count();
    long waitStartNanos = System.nanoTime();
    if (unfinished > 0) {
      LOG.atInfo()
          .addKeyValue("snapshot", record.info().name())
          .addKeyValue("layers", unfinished)
          .log("waiting for layers below that are mounted or unpacked in the background");
    }
    Set<Long> justTried = awaitPending(record.parentIds());
    if (unfinished > 0) {
      LOG.atInfo()
          .addKeyValue("snapshot", record.info().name())
          .addKeyValue("waited_ms", (System.nanoTime() - waitStartNanos) / 1_000_000)
          .log("layers below are mounted or unpacked");
    }
    List<SnapshotRecord> parents =
        store.read(
            tx -> {
              List<SnapshotRecord> found = new ArrayList<>();
              for (long id : record.parentIds()) {
                tx.findById(id).ifPresent(found::add);
              }
              return found;
            });
    // The deepest first: a layer restored again mounts over the layers below it.
    java.util.Collections.reverse(parents);
    for (SnapshotRecord parent : parents) {
      boolean remote = parent.info().labels().containsKey(SnapshotLabels.REMOTE);
      Unrestored unmounted = unrestored.get(parent.id());
      if (!remote && unmounted == null) {
        continue;
      }
      String layer = layerOf(parent);
      String kind = remote ? "lazily mounted layer" : "layer";
      String subject =
          layer.isEmpty()
              ? kind + " \"" + parent.info().name() + "\""
              : kind + " " + layer + " (snapshot \"" + parent.info().name() + "\")";
      String failedRestore = null;
      if (unmounted != null) {
        failedRestore = justTried.contains(parent.id()) ? unmounted.error() : retryRestore(parent);
        if (failedRestore == null && !isRemote(parent.id())) {
          // The retry unpacked the layer instead of mounting it.
          continue;
        }
      }
      if (failedRestore != null) {
        throw new UnavailableException(
            subject
                + (remote
                    ? " is not mounted: mounting it failed ("
                    : " is not unpacked: unpacking it in the snapshotter failed (")
                + failedRestore
                + "); it is tried again "
                + RESTORE_RETRY_INTERVAL.toSeconds()
                + " s after the last attempt, when the layer is next used");
      }
      if (mounter.isEmpty()) {
        throw new UnavailableException(subject + " is remote and no remote layer mounter runs");
      }
      try {
        mounter.get().check(directories.fs(parent.id()));
      } catch (IOException e) {
        throw new UnavailableException(
            subject
                + " cannot be read from its registry ("
                + e.getMessage()
                + "); until every span of it is cached, new containers need the registry",
            e);
      }
    }
  }

  /** Returns the layer digest that the labels of {@code record} name, or an empty string. */
  private static String layerOf(SnapshotRecord record) {
    Map<String, String> labels = record.info().labels();
    return labels.getOrDefault(
        SnapshotLabels.CRI_LAYER_DIGEST, labels.getOrDefault(SnapshotLabels.STARGZ_DIGEST, ""));
  }

  /** Returns whether the snapshot {@code id} still exists and is a remote snapshot. */
  private boolean isRemote(long id) throws SnapshotException, IOException {
    return store
        .read(tx -> tx.findById(id))
        .map(found -> found.info().labels().containsKey(SnapshotLabels.REMOTE))
        .orElse(false);
  }

  /**
   * Commits the active snapshot {@code key} as {@code name}, with {@code labels} in place of its
   * old labels and its disk usage measured now.
   *
   * @param parent the parent named by the caller (containerd 2.2 and newer), or empty
   */
  public void commit(String name, String key, Map<String, String> labels, String parent)
      throws SnapshotException, IOException {
    SnapshotRecord record = store.read(tx -> tx.get(key));
    if (!parent.isEmpty()
        && !record.info().parent().isEmpty()
        && !record.info().parent().equals(parent)) {
      throw new InvalidArgumentException(
          "snapshot "
              + key
              + " has parent \""
              + record.info().parent()
              + "\", not \""
              + parent
              + "\"");
    }
    Usage usage =
        record.info().kind() == Kind.ACTIVE
            ? SnapshotDirectories.diskUsage(directories.fs(record.id()))
            : Usage.ZERO;
    store.write(
        tx -> {
          if (!parent.isEmpty() && record.info().parent().isEmpty()) {
            tx.adoptParent(record, parent);
          }
          return tx.commitActive(key, name, usage, labels, clock.instant());
        });
  }

  /**
   * Removes the snapshot {@code key}: its record, then its directory after unmounting anything
   * mounted in it. A directory that cannot be deleted is logged and left for {@link #cleanup}.
   */
  public void remove(String key) throws SnapshotException, IOException {
    SnapshotRecord removed = store.write(tx -> tx.remove(key));
    // Its mount or unpack in the background is interrupted and ends first, so that nothing is left
    // in the directory. containerd's garbage collector removes snapshots while it holds a lock that
    // every Prepare of this snapshotter needs, so the Remove must not wait for a whole download.
    removing.add(removed.id());
    try {
      backgroundWorkers.computeIfPresent(
          removed.id(),
          (id, worker) -> {
            worker.interrupt();
            return worker;
          });
      awaitPending(List.of(removed.id()));
    } finally {
      removing.remove(removed.id());
    }
    unrestored.remove(removed.id());
    restoreLocks.remove(removed.id());
    releaseDirectory(directories.directory(removed.id()), key);
  }

  private void removeQuietly(String key) {
    try {
      remove(key);
    } catch (SnapshotException | IOException e) {
      LOG.atWarn()
          .addKeyValue("key", key)
          .addKeyValue("error", e.getMessage())
          .log("cannot remove snapshot");
    }
  }

  /** Unmounts what is mounted under {@code directory}, then deletes it; failures are logged. */
  private void releaseDirectory(Path directory, String snapshot) {
    try {
      Set<Path> mountpoints = new LinkedHashSet<>(MountTable.mountpointsUnder(directory));
      for (Path mountpoint : mounted) {
        if (mountpoint.startsWith(directory)) {
          mountpoints.add(mountpoint);
        }
      }
      for (Path mountpoint : mountpoints) {
        unmount(mountpoint, snapshot);
      }
      SnapshotDirectories.deleteRecursively(directory);
    } catch (IOException e) {
      LOG.atWarn()
          .addKeyValue("snapshot", snapshot)
          .addKeyValue("path", directory.toString())
          .addKeyValue("error", e.getMessage())
          .log("cannot delete snapshot directory; Cleanup will retry");
    }
  }

  private void unmount(Path mountpoint, String snapshot) throws IOException {
    if (mounter.isEmpty()) {
      throw new IOException(mountpoint + " is mounted and no remote layer mounter runs");
    }
    mounter.get().unmount(mountpoint);
    mounted.remove(mountpoint);
    LOG.atInfo()
        .addKeyValue("snapshot", snapshot)
        .addKeyValue("mountpoint", mountpoint.toString())
        .log("unmounted remote layer");
  }

  /** Returns the description of the snapshot {@code key}. */
  public SnapshotInfo stat(String key) throws SnapshotException, IOException {
    return store.read(tx -> tx.get(key)).info();
  }

  /**
   * Updates the labels of the snapshot {@code info.name()}.
   *
   * @param fieldPaths {@code labels}, {@code labels.<key>}, or none to replace all labels
   */
  public SnapshotInfo update(SnapshotInfo info, List<String> fieldPaths)
      throws SnapshotException, IOException {
    return store.write(tx -> tx.update(info, fieldPaths, clock.instant()));
  }

  /**
   * Returns the snapshots that match any of {@code filters} (all of them when it is empty).
   *
   * @throws InvalidArgumentException if a filter does not parse
   */
  public List<SnapshotInfo> list(List<String> filters) throws SnapshotException, IOException {
    SnapshotFilter filter = SnapshotFilter.parseAll(filters);
    return store.read(tx -> tx.list(filter));
  }

  /**
   * Returns the disk usage of {@code key}: measured now for an active snapshot, stored at commit
   * otherwise (zero for remote snapshots, whose data is not on our disk).
   */
  public Usage usage(String key) throws SnapshotException, IOException {
    SnapshotRecord record = store.read(tx -> tx.get(key));
    if (record.info().kind() == Kind.ACTIVE) {
      return SnapshotDirectories.diskUsage(directories.fs(record.id()));
    }
    return record.usage();
  }

  /**
   * Deletes every directory under {@code snapshots/} that belongs to no snapshot, unmounting what
   * is mounted in it first. Runs in a write transaction, so no snapshot is created meanwhile; a
   * directory that cannot be deleted is logged and skipped.
   */
  public void cleanup() throws SnapshotException, IOException {
    store.write(
        tx -> {
          Set<Long> ids = tx.ids();
          for (String name : directories.entries()) {
            if (isLiveId(name, ids)) {
              continue;
            }
            releaseDirectory(directories.root().resolve(name), name);
          }
          return null;
        });
  }

  private static boolean isLiveId(String name, Set<Long> ids) {
    try {
      return ids.contains(Long.parseLong(name));
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /**
   * Mounts again every remote snapshot stored by an earlier run, and starts unpacking again in the
   * background the layers whose unpack an earlier run left unfinished. A snapshot that cannot be
   * mounted is logged with its key and the reason, and it stays removable. The availability check
   * of snapshots above it then fails, but the daemon keeps running.
   *
   * @return the number of remote snapshots restored
   */
  public int restoreRemoteSnapshots() throws SnapshotException, IOException {
    List<SnapshotRecord> remote = new ArrayList<>();
    // Side by side: a registry that does not respond costs each layer its whole timeout. Layers
    // of one depth go together, so that each layer mounts over the layers below it, whose
    // directories and symbolic links the parents it leaves out follow.
    TreeMap<Integer, List<SnapshotRecord>> byDepth = new TreeMap<>();
    TreeMap<Integer, List<SnapshotRecord>> unpacksByDepth = new TreeMap<>();
    Map<Long, CompletableFuture<Void>> unpacks = new HashMap<>();
    for (SnapshotRecord record : store.read(tx -> tx.records())) {
      int depth = record.parentIds().size();
      if (record.info().labels().containsKey(SnapshotLabels.REMOTE)) {
        remote.add(record);
        byDepth.computeIfAbsent(depth, key -> new ArrayList<>()).add(record);
      } else if (record.info().kind() == Kind.COMMITTED
          && Files.exists(unpackMarker(record.id()))) {
        // Pending before any mount starts, so that a mount that reads this layer waits for it.
        CompletableFuture<Void> unpacking = new CompletableFuture<>();
        pending.put(record.id(), unpacking);
        unpacks.put(record.id(), unpacking);
        unpacksByDepth.computeIfAbsent(depth, key -> new ArrayList<>()).add(record);
        byDepth.computeIfAbsent(depth, key -> new ArrayList<>());
      }
    }
    AtomicInteger restored = new AtomicInteger();
    ExecutorService mounts =
        Executors.newFixedThreadPool(
            Math.max(1, Math.min(remote.size(), RESTORING_MOUNTS)),
            DaemonThreads.numbered("jsoci-restore-"));
    try {
      for (Map.Entry<Integer, List<SnapshotRecord>> depth : byDepth.entrySet()) {
        // An unpack starts once the remote layers below it are mounted again, since it may read
        // them for the parent directories its tar leaves out. It runs in the background.
        for (SnapshotRecord record : unpacksByDepth.getOrDefault(depth.getKey(), List.of())) {
          LOG.atInfo()
              .addKeyValue("snapshot", record.info().name())
              .addKeyValue("layer", layerOf(record))
              .log("unpacking layer again: the last run stopped before its unpack ended");
          runInBackground(
              record, unpacks.remove(record.id()), () -> unpackFromMarker(record), "unpacking");
        }
        List<Future<?>> restores = new ArrayList<>();
        for (SnapshotRecord record : depth.getValue()) {
          restores.add(
              mounts.submit(
                  () -> {
                    if (materialize(record, true)) {
                      restored.incrementAndGet();
                    }
                  }));
        }
        for (Future<?> restore : restores) {
          restore.get();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while restoring remote snapshots");
    } catch (ExecutionException e) {
      throw new IllegalStateException("restoring a remote snapshot failed", e.getCause());
    } finally {
      mounts.shutdownNow();
      // Unpacks that a failed restore kept from starting: their next use tries them again.
      unpacks.forEach(
          (id, unpacking) -> {
            unrestored.put(
                id,
                new Unrestored("the daemon's start ended before unpacking it", clock.instant()));
            endPending(id, unpacking);
          });
    }
    return restored.get();
  }

  /**
   * Mounts the remote snapshot {@code record}, clearing the dead mount a killed process may have
   * left. Unless {@code atStart}, when the mount fails, unpacks its layer into its directory
   * instead and keeps it as an ordinary snapshot. Records it as unrestored when neither works.
   * Returns whether it can serve reads now.
   *
   * @param atStart whether the daemon is restoring the snapshots of an earlier run, which only
   *     mounts them, so that a start does not wait for whole layers
   */
  private boolean materialize(SnapshotRecord record, boolean atStart) {
    Path mountpoint = directories.fs(record.id());
    try {
      restore(record);
      unrestored.remove(record.id());
      LOG.atInfo()
          .addKeyValue("snapshot", record.info().name())
          .addKeyValue("layer", layerOf(record))
          .addKeyValue("mountpoint", mountpoint.toString())
          .log(atStart ? "restored remote snapshot" : "mounted layer remotely");
      return true;
    } catch (IOException | RuntimeException e) {
      String error = restoreError(e);
      if (mounter.isPresent()) {
        try {
          mounter.get().unmount(mountpoint);
        } catch (IOException | RuntimeException unmountFailure) {
          LOG.atWarn()
              .addKeyValue("mountpoint", mountpoint.toString())
              .addKeyValue("error", unmountFailure.getMessage())
              .log("cannot clear the mount of an unmounted snapshot");
        }
      }
      if (removing.contains(record.id())) {
        LOG.atInfo()
            .addKeyValue("snapshot", record.info().name())
            .log("stopped mounting remote snapshot: it was removed");
        return false;
      }
      if (closing) {
        LOG.atInfo()
            .addKeyValue("snapshot", record.info().name())
            .addKeyValue("error", error)
            .log(
                "stopped mounting remote snapshot: the daemon is stopping; its next start mounts"
                    + " it");
        return false;
      }
      if (!atStart) {
        listener.layerMountFailed(mountFailureOf(e));
      }
      if (!atStart && localUnpacker.isPresent()) {
        LOG.atWarn()
            .addKeyValue("snapshot", record.info().name())
            .addKeyValue("layer", layerOf(record))
            .addKeyValue("error", error)
            .log("cannot mount layer remotely; unpacking it in the snapshotter");
        String unpackError;
        try {
          unpackError = unpackInstead(localUnpacker.get(), record, requestOf(record));
        } catch (IOException | IllegalArgumentException requestFailure) {
          unpackError = restoreError(requestFailure);
        }
        if (unpackError == null) {
          unrestored.remove(record.id());
          return true;
        }
        error = error + "; unpacking the layer instead failed: " + unpackError;
      }
      unrestored.put(record.id(), new Unrestored(error, clock.instant()));
      LOG.atError()
          .addKeyValue("snapshot", record.info().name())
          .addKeyValue("layer", layerOf(record))
          .addKeyValue("error", error)
          .log(
              (atStart ? "cannot restore remote snapshot" : "cannot mount layer remotely")
                  + "; its next use tries again after "
                  + RESTORE_RETRY_INTERVAL.toSeconds()
                  + " s, or remove it through containerd");
      return false;
    }
  }

  /**
   * Unpacks the layer of the committed snapshot {@code record} into its {@code fs} and turns it
   * into an ordinary snapshot with its disk usage and without the remote labels, which a restart
   * leaves as it is. Returns null when that worked, else the error, with {@code fs} emptied.
   */
  private @Nullable String unpackInstead(
      LocalLayerUnpacker unpacker, SnapshotRecord record, RemoteLayerRequest request) {
    String name = record.info().name();
    Path fs = directories.fs(record.id());
    Path temporaryTar = directories.directory(record.id()).resolve("layer.tar");
    try {
      // The unpack reads the layers below for the parent directories that the layer leaves out.
      awaitPending(record.parentIds());
      SnapshotDirectories.deleteContents(fs);
      unpacker.unpack(request, fs, temporaryTar, lowerDirectories(record));
      Map<String, String> labels = new TreeMap<>(record.info().labels());
      labels.remove(SnapshotLabels.REMOTE);
      labels.remove(SnapshotLabels.REMOTE_NAMESPACE);
      SnapshotInfo info =
          new SnapshotInfo(
              name,
              record.info().parent(),
              record.info().kind(),
              record.info().createdAt(),
              record.info().updatedAt(),
              labels);
      Usage usage = SnapshotDirectories.diskUsage(fs);
      store.write(
          tx -> {
            // Only the two labels go: labels set since the commit stay.
            tx.update(
                info,
                List.of(
                    "labels." + SnapshotLabels.REMOTE, "labels." + SnapshotLabels.REMOTE_NAMESPACE),
                clock.instant());
            tx.setUsage(name, usage);
            return null;
          });
      // After the usage: a restart that still finds the marker unpacks the layer once more.
      Files.deleteIfExists(unpackMarker(record.id()));
      LOG.atInfo()
          .addKeyValue("snapshot", name)
          .addKeyValue("layer", request.layerDigest().toString())
          .addKeyValue("local-snapshot-prepared", "true")
          .log("unpacked layer in the snapshotter");
      return null;
    } catch (SnapshotException | IOException | RuntimeException e) {
      String error = restoreError(e);
      try {
        Files.deleteIfExists(temporaryTar);
        SnapshotDirectories.deleteContents(fs);
      } catch (IOException cleanupFailure) {
        LOG.atWarn()
            .addKeyValue("snapshot", name)
            .addKeyValue("error", cleanupFailure.getMessage())
            .log("cannot empty the directory of a layer whose unpack failed");
      }
      return error;
    }
  }

  private static String restoreError(Exception e) {
    if (e instanceof NoSociIndexException && e.getCause() != null) {
      // Its message claims that containerd pulls the layer, which is true only in Prepare.
      return "cannot read the layer's SOCI index or zTOC: " + e.getCause().getMessage();
    }
    // The message of a file system exception may be the path alone, so its type goes first.
    return e instanceof FileSystemException
        ? e.getClass().getSimpleName() + ": " + e.getMessage()
        : String.valueOf(e.getMessage());
  }

  /**
   * Tries again to restore {@code parent}, which failed to restore, when {@link
   * #RESTORE_RETRY_INTERVAL} has passed since the last attempt. Returns the reason it is still not
   * mounted, or null once it is.
   */
  private @Nullable String retryRestore(SnapshotRecord parent) {
    synchronized (restoreLocks.computeIfAbsent(parent.id(), id -> new Object())) {
      Unrestored failed = unrestored.get(parent.id());
      if (failed == null) {
        return null;
      }
      if (Duration.between(failed.attempted(), clock.instant()).compareTo(RESTORE_RETRY_INTERVAL)
          < 0) {
        return failed.error();
      }
      boolean ready =
          Files.exists(unpackMarker(parent.id()))
              ? unpackFromMarker(parent)
              : materialize(parent, false);
      if (ready) {
        return null;
      }
      return unrestored.get(parent.id()).error();
    }
  }

  /** Reads the layer request of the remote snapshot {@code record} from its labels. */
  private static RemoteLayerRequest requestOf(SnapshotRecord record) throws IOException {
    String namespace = record.info().labels().get(SnapshotLabels.REMOTE_NAMESPACE);
    if (namespace == null || namespace.isEmpty()) {
      throw new IOException("missing label " + SnapshotLabels.REMOTE_NAMESPACE);
    }
    return RemoteLayerRequest.fromLabels(namespace, record.info().labels());
  }

  private void restore(SnapshotRecord record) throws IOException {
    if (mounter.isEmpty()) {
      throw new IOException("no remote layer mounter is configured");
    }
    RemoteLayerRequest request = requestOf(record);

    Path directory = directories.directory(record.id());
    Path mountpoint = directories.fs(record.id());
    if (!Files.isDirectory(directory)) {
      Files.createDirectories(directory);
      Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
    }
    // A dead FUSE mount left by a killed process fails every stat with ENOTCONN, so it looks
    // missing. The mount table distinguishes it, and the mounter clears it.
    if (!Files.isDirectory(mountpoint) && !MountTable.isMountpoint(mountpoint)) {
      Files.createDirectories(mountpoint);
      Files.setPosixFilePermissions(mountpoint, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    mounter.get().mount(request, mountpoint, lowerLayersOf(record));
    mounted.add(mountpoint);
  }

  /**
   * Unmounts every remote layer this snapshotter mounted, up to {@link #CLOSING_UNMOUNTS} at once,
   * then closes the database. A layer that a running container still uses can take the mounter's
   * whole unmount timeout, and these waits run side by side instead of adding up.
   */
  @Override
  public void close() throws IOException {
    // Mounts in progress are interrupted: the next start mounts those layers from their labels.
    closing = true;
    backgroundMounts.shutdownNow();
    try {
      while (!backgroundMounts.awaitTermination(1, TimeUnit.MINUTES)) {
        LOG.atWarn().addKeyValue("layers", pending.size()).log("still mounting remote layers");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      backgroundMounts.shutdownNow();
    }
    List<Path> mountpoints = List.copyOf(mounted);
    ExecutorService unmounts =
        Executors.newFixedThreadPool(
            Math.max(1, Math.min(mountpoints.size(), CLOSING_UNMOUNTS)),
            DaemonThreads.numbered("jsoci-unmount-"));
    try {
      for (Path mountpoint : mountpoints) {
        unmounts.execute(() -> unmountAtClose(mountpoint));
      }
      unmounts.shutdown();
      while (!unmounts.awaitTermination(1, TimeUnit.MINUTES)) {
        LOG.atWarn().addKeyValue("layers", mounted.size()).log("still unmounting remote layers");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.atError()
          .addKeyValue("layers", mounted.size())
          .log("interrupted while unmounting remote layers; some may stay mounted");
    } finally {
      unmounts.shutdownNow();
      store.close();
    }
  }

  private void unmountAtClose(Path mountpoint) {
    try {
      unmount(mountpoint, "id " + mountpoint.getParent().getFileName());
    } catch (IOException | RuntimeException e) {
      LOG.atError()
          .addKeyValue("mountpoint", mountpoint.toString())
          .addKeyValue("error", e.getMessage())
          .log("cannot unmount remote layer");
    }
  }

  /**
   * Creates a record and its directory in one transaction; when anything fails, deletes the
   * directory so that neither is left.
   */
  private SnapshotRecord createSnapshot(
      Kind kind, String key, String parent, Map<String, String> labels)
      throws SnapshotException, IOException {
    Path[] leftovers = new Path[2];
    try {
      return store.write(
          tx -> {
            leftovers[0] = directories.createTemporary(kind);
            SnapshotRecord record = tx.create(kind, key, parent, labels, clock.instant());
            if (!record.parentIds().isEmpty()) {
              SnapshotDirectories.copyOwner(
                  directories.fs(record.parentIds().get(0)), leftovers[0].resolve("fs"));
            }
            leftovers[1] = directories.install(leftovers[0], record.id());
            leftovers[0] = null;
            faults.afterDirectoryInstalled(record);
            return record;
          });
    } catch (SnapshotException | IOException | RuntimeException e) {
      for (Path leftover : leftovers) {
        if (leftover == null) {
          continue;
        }
        try {
          SnapshotDirectories.deleteRecursively(leftover);
        } catch (IOException deleteFailure) {
          e.addSuppressed(deleteFailure);
          LOG.atError()
              .addKeyValue("key", key)
              .addKeyValue("path", leftover.toString())
              .addKeyValue("error", deleteFailure.getMessage())
              .log("cannot delete the directory of a snapshot that failed; Cleanup will retry");
        }
      }
      throw e;
    }
  }

  private static OptionalLong parseSize(String value) {
    if (value == null) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(value.trim()));
    } catch (NumberFormatException e) {
      return OptionalLong.empty();
    }
  }
}
