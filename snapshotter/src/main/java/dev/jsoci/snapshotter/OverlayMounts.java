package dev.jsoci.snapshotter;

import dev.jsoci.snapshotter.metadata.Kind;
import dev.jsoci.snapshotter.metadata.SnapshotRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Computes the mounts of an active or view snapshot, as containerd 1.6's overlayfs snapshotter
 * does:
 *
 * <ul>
 *   <li>no parent: a bind mount of the snapshot's own {@code fs}, {@code rw} for an active snapshot
 *       and {@code ro} for a view;
 *   <li>a view with one parent: a read-only bind mount of the parent's {@code fs};
 *   <li>otherwise an overlay with options {@code index=off} and {@code userxattr} when they apply,
 *       then {@code workdir} and {@code upperdir} for an active snapshot, then {@code lowerdir}
 *       listing the parents' {@code fs}, nearest parent first.
 * </ul>
 */
final class OverlayMounts {
  private final SnapshotDirectories directories;
  private final OverlayOptions options;

  OverlayMounts(SnapshotDirectories directories, OverlayOptions options) {
    this.directories = directories;
    this.options = options;
  }

  List<Mount> of(SnapshotRecord snapshot) {
    Kind kind = snapshot.info().kind();
    if (kind == Kind.COMMITTED) {
      throw new IllegalArgumentException(
          "committed snapshot has no mounts: " + snapshot.info().name());
    }
    List<Long> parents = snapshot.parentIds();
    if (parents.isEmpty()) {
      String access = kind == Kind.VIEW ? "ro" : "rw";
      return List.of(bind(snapshot.id(), access));
    }
    if (kind == Kind.VIEW && parents.size() == 1) {
      return List.of(bind(parents.get(0), "ro"));
    }

    List<Path> lowerDirectories = new ArrayList<>();
    for (long parent : parents) {
      lowerDirectories.add(directories.fs(parent));
    }
    List<String> mountOptions =
        kind == Kind.ACTIVE
            ? overlayOptions(
                options,
                directories.work(snapshot.id()),
                directories.fs(snapshot.id()),
                lowerDirectories)
            : overlayOptions(options, null, null, lowerDirectories);
    return List.of(new Mount("overlay", "overlay", mountOptions));
  }

  /**
   * Returns the options of an overlay mount in the order described above: {@code index=off} and
   * {@code userxattr} when they apply, then {@code workdir} and {@code upperdir} when {@code upper}
   * is not null, then {@code lowerdir}, nearest lower directory first.
   */
  static List<String> overlayOptions(
      OverlayOptions options, @Nullable Path work, @Nullable Path upper, List<Path> lowers) {
    List<String> mountOptions = new ArrayList<>();
    if (options.indexOff()) {
      mountOptions.add("index=off");
    }
    if (options.userXattr()) {
      mountOptions.add("userxattr");
    }
    if (upper != null) {
      mountOptions.add("workdir=" + Objects.requireNonNull(work, "work"));
      mountOptions.add("upperdir=" + upper);
    }
    List<String> lowerDirectories = new ArrayList<>();
    for (Path lower : lowers) {
      lowerDirectories.add(lower.toString());
    }
    mountOptions.add("lowerdir=" + String.join(":", lowerDirectories));
    return mountOptions;
  }

  private Mount bind(long id, String access) {
    return new Mount("bind", directories.fs(id).toString(), List.of(access, "rbind"));
  }
}
