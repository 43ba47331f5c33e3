package dev.jsoci.snapshotter.unpack;

import dev.jsoci.snapshotter.Commands;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Runs coreutils' {@code mknod} and {@code touch} and the attr package's {@code setfattr} for what
 * the JDK cannot do without opening a file: creating device nodes and fifos, setting their times,
 * and setting xattrs in any namespace (the JDK's {@code UserDefinedFileAttributeView} reaches only
 * {@code user.} and opens the file).
 *
 * <p>NOTE: one process per call. Layers have few such entries, but a layer with thousands of
 * devices or xattrs would unpack slowly.
 */
final class FileTools {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private FileTools() {}

  /** Creates a character device ({@code type} 'c'), block device ('b') or fifo ('p'). */
  static void mknod(Path path, char type, long major, long minor) throws IOException {
    List<String> command = new ArrayList<>(List.of("mknod", "-m", "0", path.toString()));
    command.add(String.valueOf(type));
    if (type != 'p') {
      command.add(Long.toString(major));
      command.add(Long.toString(minor));
    }
    run(command);
  }

  /** Sets the extended attribute {@code name} of {@code path}, not following a symbolic link. */
  static void setXattr(Path path, String name, byte[] value) throws IOException {
    String hex = "0x" + HexFormat.of().formatHex(value);
    run(List.of("setfattr", "-h", "-n", name, "-v", hex, path.toString()));
  }

  /**
   * Sets the access and modification times of {@code path} without opening it or following a
   * symbolic link.
   */
  static void touch(Path path, Instant time) throws IOException {
    String seconds = time.getEpochSecond() + "." + String.format("%09d", time.getNano());
    run(List.of("touch", "-h", "-d", "@" + seconds, path.toString()));
  }

  private static void run(List<String> command) throws IOException {
    Commands.run(command, TIMEOUT);
  }
}
