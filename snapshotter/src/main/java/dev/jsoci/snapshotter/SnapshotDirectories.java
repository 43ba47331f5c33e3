package dev.jsoci.snapshotter;

import dev.jsoci.snapshotter.metadata.Kind;
import dev.jsoci.snapshotter.metadata.Usage;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The snapshot directories under {@code <root>/snapshotter/snapshots}: {@code <id>/fs} is the upper
 * directory of an active snapshot, the contents of a committed one, or the mountpoint of a remote
 * layer; {@code <id>/work} is the overlay work directory of an active snapshot. A new snapshot's
 * directories are made under a temporary name {@code new-*} and renamed into place.
 */
final class SnapshotDirectories {
  static final String TEMPORARY_PREFIX = "new-";

  private final Path snapshots;

  SnapshotDirectories(Path snapshots) {
    this.snapshots = snapshots;
  }

  /** Creates the snapshots directory (mode 0700) when missing. */
  void create() throws IOException {
    Files.createDirectories(snapshots);
    Files.setPosixFilePermissions(snapshots, PosixFilePermissions.fromString("rwx------"));
  }

  Path root() {
    return snapshots;
  }

  Path directory(long id) {
    return snapshots.resolve(Long.toString(id));
  }

  Path fs(long id) {
    return directory(id).resolve("fs");
  }

  Path work(long id) {
    return directory(id).resolve("work");
  }

  /**
   * Creates a temporary directory with {@code fs} (0755) and, for an active snapshot, {@code work}
   * (0711). The caller renames it with {@link #install} or deletes it.
   */
  Path createTemporary(Kind kind) throws IOException {
    Path temporary = Files.createTempDirectory(snapshots, TEMPORARY_PREFIX);
    Path fs = Files.createDirectory(temporary.resolve("fs"));
    Files.setPosixFilePermissions(fs, PosixFilePermissions.fromString("rwxr-xr-x"));
    if (kind == Kind.ACTIVE) {
      Path work = Files.createDirectory(temporary.resolve("work"));
      Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx--x--x"));
    }
    return temporary;
  }

  /** Gives {@code fs} the owner and group of {@code parentFs}, as containerd does. */
  static void copyOwner(Path parentFs, Path fs) throws IOException {
    Map<String, Object> owner =
        Files.readAttributes(parentFs, "unix:uid,gid", LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(fs, "unix:uid", owner.get("uid"), LinkOption.NOFOLLOW_LINKS);
    Files.setAttribute(fs, "unix:gid", owner.get("gid"), LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Renames {@code temporary} to the directory of snapshot {@code id}. A directory already there
   * has no record (ids are unique), so it is left over from a failed or interrupted operation and
   * is deleted first.
   */
  Path install(Path temporary, long id) throws IOException {
    Path target = directory(id);
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      deleteRecursively(target);
    }
    return Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Returns the names of the entries of the snapshots directory. */
  List<String> entries() throws IOException {
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(snapshots)) {
      for (Path entry : stream) {
        names.add(entry.getFileName().toString());
      }
    }
    return names;
  }

  /**
   * Deletes {@code directory} and everything in it, without following symbolic links.
   *
   * @throws IOException if something is mounted in it (nothing is deleted then), or a deletion
   *     fails
   */
  static void deleteRecursively(Path directory) throws IOException {
    List<Path> mounts = MountTable.mountpointsUnder(directory);
    if (!mounts.isEmpty()) {
      throw new IOException("cannot delete " + directory + ": " + mounts.get(0) + " is mounted");
    }
    try {
      DirectoryTree.delete(directory);
    } catch (NoSuchFileException e) {
      // Already gone.
    }
  }

  /**
   * Deletes everything in {@code directory} but keeps the directory itself, with its owner and mode.
   *
   * @throws IOException if something is mounted in it, or a deletion fails
   */
  static void deleteContents(Path directory) throws IOException {
    List<Path> children;
    try (Stream<Path> entries = Files.list(directory)) {
      children = entries.toList();
    }
    for (Path child : children) {
      deleteRecursively(child);
    }
  }

  /**
   * Measures the disk usage of {@code directory}: each distinct inode once, sizes rounded up to the
   * filesystem's block size.
   *
   * <p>NOTE: containerd adds up {@code st_blocks}, which Java cannot read; the rounded size is
   * larger for sparse files and smaller for files with extra metadata blocks.
   */
  static Usage diskUsage(Path directory) throws IOException {
    long blockSize = Math.max(1, Files.getFileStore(directory).getBlockSize());
    Set<List<Object>> seen = new HashSet<>();
    long[] totals = new long[2];
    Files.walkFileTree(
        directory,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes)
              throws IOException {
            count(dir, attributes);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attributes)
              throws IOException {
            count(file, attributes);
            return FileVisitResult.CONTINUE;
          }

          private void count(Path path, BasicFileAttributes attributes) throws IOException {
            Map<String, Object> inode =
                Files.readAttributes(path, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
            if (!seen.add(List.of(inode.get("dev"), inode.get("ino")))) {
              return;
            }
            totals[1]++;
            if (attributes.isRegularFile() || attributes.isDirectory()) {
              long size = attributes.size();
              totals[0] += (size + blockSize - 1) / blockSize * blockSize;
            }
          }
        });
    return new Usage(totals[0], totals[1]);
  }
}
