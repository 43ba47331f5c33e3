package dev.jsoci.fs.fuse;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The mounts of this process's mount namespace, read from {@code /proc/self/mountinfo}. Reading it
 * never touches the mounted filesystems, so it works on a dead FUSE mount too.
 */
final class MountTable {
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

  /**
   * One line of mountinfo.
   *
   * @param mountPoint where the filesystem is mounted, with the kernel's octal escapes decoded
   * @param fsType the type, {@code fuse.<subtype>} for a FUSE mount with a subtype
   * @param source the source; for FUSE, the {@code fsname} option
   * @param mountOptions the per-mount options such as {@code ro,nodev,relatime}
   * @param superOptions the filesystem's options such as {@code user_id=0,allow_other}
   */
  record MountEntry(
      Path mountPoint, String fsType, String source, String mountOptions, String superOptions) {}

  private MountTable() {}

  /** Returns every mount in mountinfo order, where later mounts stack on earlier ones. */
  static List<MountEntry> read() throws IOException {
    List<MountEntry> entries = new ArrayList<>();
    for (String line : Files.readAllLines(MOUNTINFO, StandardCharsets.ISO_8859_1)) {
      MountEntry entry = parse(line);
      if (entry != null) {
        entries.add(entry);
      }
    }
    return entries;
  }

  /** Returns the topmost mount at {@code mountPoint}, which must be absolute and normalized. */
  static Optional<MountEntry> find(Path mountPoint) throws IOException {
    @Nullable MountEntry found = null;
    for (MountEntry entry : read()) {
      if (entry.mountPoint().equals(mountPoint)) {
        found = entry;
      }
    }
    return Optional.ofNullable(found);
  }

  static boolean isMounted(Path mountPoint) throws IOException {
    return find(mountPoint).isPresent();
  }

  /**
   * Parses {@code ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE
   * SUPEROPTIONS}, as proc(5) describes mountinfo; returns null for a line of another shape.
   */
  static @Nullable MountEntry parse(String line) {
    String[] fields = line.split(" ");
    int separator = -1;
    for (int i = 6; i < fields.length; i++) {
      if (fields[i].equals("-")) {
        separator = i;
        break;
      }
    }
    if (separator < 0 || fields.length < separator + 4) {
      return null;
    }
    return new MountEntry(
        Path.of(unescape(fields[4])),
        unescape(fields[separator + 1]),
        unescape(fields[separator + 2]),
        fields[5],
        fields[separator + 3]);
  }

  /**
   * Decodes the kernel's escapes of space, tab, newline and backslash ({@code \040} and so on) and
   * reads the bytes as UTF-8, the way the JVM names files here.
   */
  private static String unescape(String field) {
    byte[] latin1 = field.getBytes(StandardCharsets.ISO_8859_1);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(latin1.length);
    for (int i = 0; i < latin1.length; i++) {
      if (latin1[i] == '\\' && isOctal(latin1, i + 1)) {
        bytes.write((latin1[i + 1] - '0') * 64 + (latin1[i + 2] - '0') * 8 + (latin1[i + 3] - '0'));
        i += 3;
      } else {
        bytes.write(latin1[i]);
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static boolean isOctal(byte[] bytes, int from) {
    for (int i = from; i < from + 3; i++) {
      if (i >= bytes.length || bytes[i] < '0' || bytes[i] > '7') {
        return false;
      }
    }
    return true;
  }
}
