package dev.jsoci.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.OptionalLong;

/**
 * The private state directory of one {@code jsoci mount}: {@code <base>/<first 16 hex digits of the
 * SHA-256 of the mount point's path>}, which {@code jsoci unmount} finds from the mount point
 * alone. Layout:
 *
 * <ul>
 *   <li>{@code pid}: the decimal process id of the mount process, written at start;
 *   <li>{@code mountpoint}: the mount point's absolute path;
 *   <li>{@code layers/<n>}: layer {@code n} of the image, 0 the bottom one, either a FUSE mount
 *       point or an unpacked directory;
 *   <li>{@code empty}: an empty lower directory, because overlayfs needs two lower directories when
 *       it has no upper one;
 *   <li>{@code upper}, {@code work}: the overlay's upper and work directories with {@code
 *       --writable};
 *   <li>{@code downloads}, {@code cache}: layer blobs while they are unpacked, and the span cache;
 *   <li>{@code created-base}: an empty file, present when this mount created the base directory,
 *       which the last unmount then removes once it is empty.
 * </ul>
 */
record MountState(Path directory, Path mountPoint) {
  /** The default parent of state directories; files under /run do not outlive a reboot. */
  static final Path DEFAULT_BASE = Path.of("/run/jsoci/mount");

  /**
   * Returns the state of {@code mountPoint} under {@code base}. The mount point's parent is
   * resolved through symbolic links, so both commands find the same directory whatever the
   * spelling; the mount point itself is not, because a dead mount there fails {@code stat}.
   */
  static MountState of(Path base, Path mountPoint) throws IOException {
    Path absolute = mountPoint.toAbsolutePath().normalize();
    Path parent = absolute.getParent();
    if (parent == null || absolute.getFileName() == null) {
      throw new IOException(
          "invalid mount point " + absolute + ": the root cannot be mounted over");
    }
    Path canonical = parent.toRealPath().resolve(absolute.getFileName());
    return new MountState(base.toAbsolutePath().resolve(hashOf(canonical.toString())), canonical);
  }

  private static String hashOf(String text) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  Path pidFile() {
    return directory.resolve("pid");
  }

  Path mountPointFile() {
    return directory.resolve("mountpoint");
  }

  Path layers() {
    return directory.resolve("layers");
  }

  Path layer(int index) {
    return layers().resolve(Integer.toString(index));
  }

  Path empty() {
    return directory.resolve("empty");
  }

  Path upper() {
    return directory.resolve("upper");
  }

  Path work() {
    return directory.resolve("work");
  }

  Path downloads() {
    return directory.resolve("downloads");
  }

  Path cache() {
    return directory.resolve("cache");
  }

  Path createdBaseMarker() {
    return directory.resolve("created-base");
  }

  /** Returns the process id recorded in the state directory, or empty if there is none. */
  OptionalLong readPid() throws IOException {
    try {
      String text = Files.readString(pidFile(), StandardCharsets.US_ASCII).strip();
      return OptionalLong.of(Long.parseLong(text));
    } catch (NoSuchFileException e) {
      return OptionalLong.empty();
    } catch (NumberFormatException e) {
      throw new IOException("invalid process id in " + pidFile() + ": " + e.getMessage());
    }
  }
}
