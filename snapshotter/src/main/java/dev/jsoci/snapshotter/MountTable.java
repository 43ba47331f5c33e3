package dev.jsoci.snapshotter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Reads this process's mount table ({@code /proc/self/mountinfo}). */
public final class MountTable {
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

  private MountTable() {}

  /**
   * Returns the mountpoints at or below {@code directory}, deepest first, so that they can be
   * unmounted in that order.
   */
  public static List<Path> mountpointsUnder(Path directory) throws IOException {
    Path base = directory.toAbsolutePath().normalize();
    List<Path> mountpoints = new ArrayList<>();
    for (String line : Files.readAllLines(MOUNTINFO, StandardCharsets.UTF_8)) {
      // Field 5 is the mountpoint, with space, tab, newline and backslash written as octal
      // escapes (proc(5)).
      String[] fields = line.split(" ");
      if (fields.length < 5) {
        continue;
      }
      Path mountpoint = Path.of(unescape(fields[4]));
      if (mountpoint.startsWith(base)) {
        mountpoints.add(mountpoint);
      }
    }
    mountpoints.sort(Comparator.comparingInt(Path::getNameCount).reversed());
    return mountpoints;
  }

  /** Returns whether {@code path} is a mountpoint. */
  public static boolean isMountpoint(Path path) throws IOException {
    return mountpointsUnder(path).contains(path.toAbsolutePath().normalize());
  }

  static String unescape(String field) {
    StringBuilder text = new StringBuilder(field.length());
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && isOctal(field, i + 1)) {
        text.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        text.append(c);
      }
    }
    return text.toString();
  }

  private static boolean isOctal(String field, int start) {
    if (start + 3 > field.length()) {
      return false;
    }
    for (int i = start; i < start + 3; i++) {
      char c = field.charAt(i);
      if (c < '0' || c > '7') {
        return false;
      }
    }
    return true;
  }
}
