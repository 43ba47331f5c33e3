package dev.jsoci.fs.fuse;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Compares two directory trees the way a user would see them: names, file types and modes, owners,
 * sizes, modification times, link counts, symbolic link targets, device numbers, hard link groups,
 * extended attributes and file contents.
 */
final class TreeComparison {
  private static final String[] ATTRIBUTES = {"mode", "uid", "gid", "rdev", "lastModifiedTime"};
  private static final int S_IFMT = 0170000;
  private static final int S_IFDIR = 0040000;
  private static final int S_IFREG = 0100000;
  private static final int S_IFLNK = 0120000;

  private final boolean compareDirectoryLinkCounts;
  private final Path xattrDumpScript;

  /**
   * @param compareDirectoryLinkCounts false for overlayfs, which reports 1 for merged directories
   * @param xattrDumpScript the script that lists a tree's extended attributes
   */
  TreeComparison(boolean compareDirectoryLinkCounts, Path xattrDumpScript) {
    this.compareDirectoryLinkCounts = compareDirectoryLinkCounts;
    this.xattrDumpScript = xattrDumpScript;
  }

  /** The maximum number of differences {@link #differences} lists before a count of the rest. */
  private static final int MAX_LISTED = 40;

  /**
   * Returns one line per difference between the trees, at most 40 and then a count of the rest;
   * empty when they match.
   */
  List<String> differences(Path expected, Path actual) throws Exception {
    List<String> all = allDifferences(expected, actual);
    if (all.size() <= MAX_LISTED) {
      return all;
    }
    List<String> listed = new ArrayList<>(all.subList(0, MAX_LISTED));
    listed.add("and " + (all.size() - MAX_LISTED) + " more differences");
    return listed;
  }

  private List<String> allDifferences(Path expected, Path actual) throws Exception {
    List<String> differences = new ArrayList<>();
    Map<String, Path> expectedPaths = walk(expected);
    Map<String, Path> actualPaths = walk(actual);
    for (String path : expectedPaths.keySet()) {
      if (!actualPaths.containsKey(path)) {
        differences.add("missing: " + path);
      }
    }
    for (String path : actualPaths.keySet()) {
      if (!expectedPaths.containsKey(path)) {
        differences.add("unexpected: " + path);
      }
    }

    Map<Object, List<String>> expectedLinkGroups = new HashMap<>();
    Map<String, Object> actualInodes = new HashMap<>();
    for (Map.Entry<String, Path> entry : expectedPaths.entrySet()) {
      Path actualPath = actualPaths.get(entry.getKey());
      if (actualPath != null) {
        compare(entry.getKey(), entry.getValue(), actualPath, differences);
        Map<String, Object> attributes = attributes(entry.getValue());
        int mode = (Integer) attributes.get("mode");
        if ((mode & S_IFMT) != S_IFDIR && (Integer) attributes.get("nlink") > 1) {
          expectedLinkGroups
              .computeIfAbsent(attributes.get("ino"), ino -> new ArrayList<>())
              .add(entry.getKey());
          actualInodes.put(entry.getKey(), attributes(actualPath).get("ino"));
        }
      }
    }

    // Names that share an inode in the extraction share one in the other tree, and no more.
    for (List<String> group : expectedLinkGroups.values()) {
      Object inode = actualInodes.get(group.get(0));
      for (String path : group) {
        if (!Objects.equals(actualInodes.get(path), inode)) {
          differences.add("hard links " + group + " do not share an inode");
          break;
        }
      }
    }

    differences.addAll(xattrDifferences(expected, actual));
    return differences;
  }

  private void compare(String path, Path expected, Path actual, List<String> differences)
      throws IOException {
    Map<String, Object> want = attributes(expected);
    Map<String, Object> got = attributes(actual);
    for (String name : ATTRIBUTES) {
      if (!Objects.equals(want.get(name), got.get(name))) {
        differences.add(describe(path, name, want.get(name), got.get(name)));
      }
    }
    int type = (Integer) want.get("mode") & S_IFMT;
    if (type != S_IFDIR || compareDirectoryLinkCounts) {
      if (!Objects.equals(want.get("nlink"), got.get("nlink"))) {
        differences.add(describe(path, "nlink", want.get("nlink"), got.get("nlink")));
      }
    }
    if (type != S_IFDIR && !Objects.equals(want.get("size"), got.get("size"))) {
      differences.add(describe(path, "size", want.get("size"), got.get("size")));
    }
    if (type == S_IFLNK) {
      Path wantTarget = Files.readSymbolicLink(expected);
      Path gotTarget = Files.readSymbolicLink(actual);
      if (!wantTarget.equals(gotTarget)) {
        differences.add(describe(path, "symlink target", wantTarget, gotTarget));
      }
    }
    if (type == S_IFREG && ((Integer) got.get("mode") & S_IFMT) == S_IFREG) {
      if (!sameContent(expected, actual)) {
        differences.add(path + ": contents differ");
      }
    }
  }

  private static boolean sameContent(Path expected, Path actual) throws IOException {
    try (InputStream want = Files.newInputStream(expected);
        InputStream got = Files.newInputStream(actual)) {
      byte[] wantBuffer = new byte[65536];
      byte[] gotBuffer = new byte[65536];
      while (true) {
        int wantCount = want.readNBytes(wantBuffer, 0, wantBuffer.length);
        int gotCount = got.readNBytes(gotBuffer, 0, gotBuffer.length);
        if (wantCount != gotCount
            || !Arrays.equals(wantBuffer, 0, wantCount, gotBuffer, 0, gotCount)) {
          return false;
        }
        if (wantCount == 0) {
          return true;
        }
      }
    }
  }

  private static String describe(String path, String attribute, Object want, Object got) {
    return path
        + ": "
        + attribute
        + " expected "
        + format(attribute, want)
        + " but was "
        + format(attribute, got);
  }

  private static String format(String attribute, Object value) {
    if (attribute.equals("mode") && value instanceof Integer mode) {
      return "0" + Integer.toOctalString(mode);
    }
    return String.valueOf(value);
  }

  private static Map<String, Object> attributes(Path path) throws IOException {
    return Files.readAttributes(path, "unix:*", LinkOption.NOFOLLOW_LINKS);
  }

  /** Returns every path under {@code root} by its relative name, the root itself as "". */
  static Map<String, Path> walk(Path root) throws IOException {
    Map<String, Path> paths = new TreeMap<>();
    try (Stream<Path> stream = Files.walk(root)) {
      stream.forEach(path -> paths.put(root.relativize(path).toString(), path));
    }
    return paths;
  }

  private List<String> xattrDifferences(Path expected, Path actual) throws Exception {
    TreeSet<String> want = new TreeSet<>(dumpXattrs(expected));
    TreeSet<String> got = new TreeSet<>(dumpXattrs(actual));
    List<String> differences = new ArrayList<>();
    for (String line : want) {
      if (!got.contains(line)) {
        differences.add("xattr missing: " + decodeXattrLine(line));
      }
    }
    for (String line : got) {
      if (!want.contains(line)) {
        differences.add("xattr unexpected: " + decodeXattrLine(line));
      }
    }
    return differences;
  }

  /** Returns the lines of the dump script: relative path in hex, name, value in hex. */
  List<String> dumpXattrs(Path root) throws Exception {
    String output = Commands.run("python3", xattrDumpScript.toString(), root.toString());
    return output.isEmpty() ? List.of() : List.of(output.split("\n"));
  }

  private static String decodeXattrLine(String line) {
    String[] fields = line.split(" ", -1);
    String path = new String(HexFormat.of().parseHex(fields[0]), StandardCharsets.UTF_8);
    return path + " " + fields[1] + "=" + fields[2];
  }
}
