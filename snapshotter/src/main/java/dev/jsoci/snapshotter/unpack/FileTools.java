package dev.jsoci.snapshotter.unpack;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

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
  private static final long TIMEOUT_SECONDS = 30;

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
    Process process;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
    }
    try (InputStream output = process.getInputStream()) {
      process.getOutputStream().close();
      String text = new String(output.readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(String.join(" ", command) + " timed out");
      }
      if (process.exitValue() != 0) {
        throw new IOException(
            String.join(" ", command)
                + " failed (exit status "
                + process.exitValue()
                + "): "
                + text);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(String.join(" ", command) + " interrupted");
    }
  }
}
