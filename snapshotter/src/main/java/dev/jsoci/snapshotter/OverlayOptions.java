package dev.jsoci.snapshotter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Overlay mount options that depend on the kernel and the process, detected once at start as
 * containerd 1.6's overlayfs snapshotter does.
 *
 * @param indexOff add {@code index=off}: the kernel's overlay module has the {@code index}
 *     parameter, so the option is understood
 * @param userXattr add {@code userxattr}: the process runs in a user namespace, where overlayfs
 *     must keep its metadata in {@code user.overlay.*} extended attributes
 */
record OverlayOptions(boolean indexOff, boolean userXattr) {
  private static final Path INDEX_PARAMETER = Path.of("/sys/module/overlay/parameters/index");
  private static final Path UID_MAP = Path.of("/proc/self/uid_map");

  /** Detects the options for this kernel and process. */
  static OverlayOptions detect() {
    return new OverlayOptions(Files.exists(INDEX_PARAMETER), inUserNamespace());
  }

  /**
   * Returns whether this process runs in a user namespace other than the initial one, whose uid map
   * is the single identity line {@code 0 0 4294967295}.
   *
   * <p>NOTE: containerd also requires kernel 5.11 or newer, or a probe mount, before it uses {@code
   * userxattr}; we assume a kernel recent enough for user-namespaced overlayfs.
   */
  static boolean inUserNamespace() {
    List<String> lines;
    try {
      lines = Files.readAllLines(UID_MAP, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      return false;
    }
    if (lines.size() != 1) {
      return true;
    }
    String[] fields = lines.get(0).trim().split("\\s+");
    return !(fields.length == 3
        && fields[0].equals("0")
        && fields[1].equals("0")
        && fields[2].equals("4294967295"));
  }
}
