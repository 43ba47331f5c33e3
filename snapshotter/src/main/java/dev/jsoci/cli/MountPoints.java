package dev.jsoci.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Reads this process's mount table ({@code /proc/self/mountinfo}) and mounts or unmounts overlays
 * with util-linux's {@code mount} and {@code umount}.
 */
final class MountPoints {
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");
  private static final long TIMEOUT_SECONDS = 60;

  private MountPoints() {}

  /** Returns the mount points at or below {@code directory}, deepest first. */
  static List<Path> under(Path directory) throws IOException {
    List<Path> found = new ArrayList<>();
    for (String line : Files.readAllLines(MOUNTINFO, StandardCharsets.UTF_8)) {
      // Field 5 is the mount point, with space, tab, newline and backslash as octal escapes.
      String[] fields = line.split(" ");
      if (fields.length < 5) {
        continue;
      }
      Path mountPoint = Path.of(unescape(fields[4]));
      if (mountPoint.startsWith(directory)) {
        found.add(mountPoint);
      }
    }
    found.sort(Comparator.comparingInt(Path::getNameCount).reversed());
    return found;
  }

  static boolean isMounted(Path path) throws IOException {
    return under(path).contains(path);
  }

  /** Mounts a read-only overlay, or a writable one when {@code options} name an upper directory. */
  static void mountOverlay(Path target, String options) throws IOException {
    run(List.of("mount", "-t", "overlay", "-o", options, "jsoci-overlay", target.toString()));
  }

  /**
   * Unmounts {@code target}; a busy mount is detached lazily instead.
   *
   * @return whether the mount had to be detached lazily
   */
  static boolean unmount(Path target) throws IOException {
    try {
      run(List.of("umount", target.toString()));
      return false;
    } catch (IOException e) {
      if (!isMounted(target)) {
        return false;
      }
      if (!e.getMessage().contains("busy")) {
        throw e;
      }
      run(List.of("umount", "-l", target.toString()));
      return true;
    }
  }

  private static String unescape(String field) {
    StringBuilder text = new StringBuilder(field.length());
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\'
          && i + 3 < field.length()
          && field.substring(i + 1, i + 4).matches("[0-7]{3}")) {
        text.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        text.append(c);
      }
    }
    return text.toString();
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
