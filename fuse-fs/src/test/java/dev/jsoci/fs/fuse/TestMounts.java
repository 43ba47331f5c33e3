package dev.jsoci.fs.fuse;

import static com.google.common.truth.Truth.assertWithMessage;

import dev.jsoci.fs.LayerFileSystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The FUSE and overlay mounts one test makes under its temporary directory. Closing unmounts them
 * in reverse order, then checks /proc/self/mountinfo: anything still mounted under the directory is
 * unmounted and fails the test.
 */
final class TestMounts implements AutoCloseable {
  private final Path root;
  private final Deque<Unmount> unmounts = new ArrayDeque<>();

  @FunctionalInterface
  private interface Unmount {
    void run() throws Exception;
  }

  TestMounts(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  FuseMount mount(LayerFileSystem fileSystem, Path mountPoint, MountOptions options)
      throws IOException {
    Files.createDirectories(mountPoint);
    FuseMount mount = FuseMount.mount(fileSystem, mountPoint, options);
    unmounts.push(mount::close);
    return mount;
  }

  FuseMount mount(LayerFileSystem fileSystem, Path mountPoint) throws IOException {
    return mount(
        fileSystem, mountPoint, MountOptions.builder("sha256:" + fileSystem.layer()).build());
  }

  /** Mounts a read-only overlay: {@code lowerDirs} from top to bottom. */
  void mountOverlay(Path target, List<Path> lowerDirs, String extraOptions) throws Exception {
    Files.createDirectories(target);
    List<String> lowers = new ArrayList<>();
    for (Path lower : lowerDirs) {
      lowers.add(lower.toString());
    }
    String options = "lowerdir=" + String.join(":", lowers) + extraOptions;
    Commands.run("mount", "-t", "overlay", "overlay", "-o", options, target.toString());
    unmounts.push(() -> Commands.run("umount", target.toString()));
  }

  @Override
  public void close() throws Exception {
    Exception failure = null;
    while (!unmounts.isEmpty()) {
      try {
        unmounts.pop().run();
      } catch (Exception e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }

    // Anything left under the test's directory is ours: remove it, then fail.
    List<MountTable.MountEntry> leftovers = new ArrayList<>();
    for (MountTable.MountEntry entry : MountTable.read()) {
      if (entry.mountPoint().startsWith(root)) {
        leftovers.add(entry);
      }
    }
    for (int i = leftovers.size() - 1; i >= 0; i--) {
      MountTable.MountEntry entry = leftovers.get(i);
      if (entry.fsType().startsWith("fuse")) {
        Commands.runAllowingFailure("fusermount", "-u", "-z", entry.mountPoint().toString());
      } else {
        Commands.runAllowingFailure("umount", "-l", entry.mountPoint().toString());
      }
    }
    if (failure != null) {
      throw failure;
    }
    assertWithMessage("mounts left under %s", root).that(leftovers).isEmpty();
  }
}
