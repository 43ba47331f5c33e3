package dev.jsoci.fs.fuse;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.jsoci.fs.FileSystemOptions;
import dev.jsoci.fs.OpaqueXattr;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Mounts three layers with whiteouts and opaque directories, stacks them with overlayfs, and
 * compares the overlay with a reference made by extracting the layers in order and applying each
 * layer's whiteouts and opaque directories to the layers below it. Needs root, /dev/fuse,
 * fusermount, overlayfs, GNU tar and python3; skipped otherwise.
 */
class OverlayTest {
  private static final String WHITEOUT_PREFIX = ".wh.";
  private static final String OPAQUE_MARKER = ".wh..wh..opq";

  @TempDir static Path shared;

  /** From the bottom layer to the top one. */
  private static List<TestLayer> layers;

  private static Path reference;
  private static Path xattrDump;

  @TempDir Path temp;

  private TestMounts mounts;

  @BeforeAll
  static void buildLayers() throws Exception {
    FuseEnvironment.assumeFuseMounts();
    FuseEnvironment.assumeProgram("tar", "tar");
    FuseEnvironment.assumeProgram("python3", "python3");
    FuseEnvironment.assumeProgram("mount", "mount");
    assumeOverlayfs();

    layers = List.of(bottomLayer(), middleLayer(), topLayer());
    reference = shared.resolve("reference");
    Files.createDirectories(reference);
    for (TestLayer layer : layers) {
      applyLayer(layer, reference, shared.resolve("extracted-" + layer.name));
    }
    xattrDump = MountedLayerTest.Tools.copyResource("xattr_dump.py", shared);
  }

  private static void assumeOverlayfs() throws IOException {
    boolean listed =
        Files.readAllLines(Path.of("/proc/filesystems")).stream()
            .anyMatch(line -> line.endsWith("\toverlay"));
    org.junit.jupiter.api.Assumptions.assumeTrue(
        listed, "needs overlayfs in /proc/filesystems (modprobe overlay)");
  }

  @BeforeEach
  void createMounts() {
    mounts = new TestMounts(temp);
  }

  @AfterEach
  void unmountAll() throws Exception {
    mounts.close();
  }

  @ParameterizedTest
  @EnumSource(OpaqueXattr.class)
  void overlayOfThreeLayers_equalsReferenceExtraction(OpaqueXattr opaqueXattr) throws Exception {
    FileSystemOptions options = FileSystemOptions.builder().opaqueXattr(opaqueXattr).build();
    List<Path> lowerDirs = new ArrayList<>();
    for (int i = layers.size() - 1; i >= 0; i--) {
      TestLayer layer = layers.get(i);
      Path mountPoint = temp.resolve("layer-" + layer.name);
      mounts.mount(layer.fileSystem(options), mountPoint);
      lowerDirs.add(mountPoint);
    }
    Path merged = temp.resolve("merged");

    mounts.mountOverlay(merged, lowerDirs, opaqueXattr == OpaqueXattr.USER ? ",userxattr" : "");
    List<String> differences = new TreeComparison(false, xattrDump).differences(reference, merged);

    assertWithMessage("differences between the overlay and the reference extraction")
        .that(differences)
        .isEmpty();
    // The reference has what the layers were built to show.
    Map<String, Path> paths = TreeComparison.walk(merged);
    assertThat(paths.keySet())
        .containsAtLeast(
            "etc/b",
            "etc/keep",
            "opq/new2",
            "keep-dir/y",
            "to-dir/inside",
            "to-file",
            "fresh/file",
            "links/h1",
            "links/h2");
    assertThat(paths.keySet())
        .containsNoneOf(
            "etc/a",
            "etc/c",
            "opq/old1",
            "opq/sub",
            "opq/new1",
            "gone",
            "keep-dir/x",
            "to-file/child",
            "nothing");
    assertThat(Files.readString(merged.resolve("etc/b"))).isEqualTo("b from the top layer");
  }

  /** Builds the bottom layer, archived by GNU tar in its own order. */
  private static TestLayer bottomLayer() throws Exception {
    Path source = shared.resolve("source-bottom");
    write(source, "etc/a", "a from the bottom layer");
    write(source, "etc/b", "b from the bottom layer");
    write(source, "etc/keep", "keep from the bottom layer");
    write(source, "opq/old1", "old1");
    write(source, "opq/sub/old2", "old2");
    write(source, "gone/inner/file", "gone");
    write(source, "to-dir", "a file the middle layer turns into a directory");
    write(source, "to-file/child", "in a directory the middle layer turns into a file");
    write(source, "links/h1", "hard-linked");
    Files.createLink(source.resolve("links/h2"), source.resolve("links/h1"));
    Files.createSymbolicLink(source.resolve("sym"), Path.of("etc/a"));
    Files.createDirectories(source.resolve("dev"));
    Commands.run("mknod", source.resolve("dev/null").toString(), "c", "1", "3");
    setTimes(source, "2020-01-01T00:00:00Z");
    return TestLayer.fromDirectory("bottom", source, shared.resolve("bottom.tar"));
  }

  /**
   * Builds the middle layer, archived in reverse name order: children come before their
   * directories, and the opaque marker of {@code opq} after the entry it lets through.
   */
  private static TestLayer middleLayer() throws Exception {
    Path source = shared.resolve("source-middle");
    write(source, "etc/" + WHITEOUT_PREFIX + "a", "");
    write(source, "etc/c", "c from the middle layer");
    write(source, "opq/" + OPAQUE_MARKER, "");
    write(source, "opq/new1", "new1 from the middle layer");
    write(source, WHITEOUT_PREFIX + "gone", "");
    write(source, "to-dir/inside", "inside the middle layer's directory");
    write(source, "to-file", "a file in the middle layer");
    write(source, "keep-dir/x", "x from the middle layer");
    setTimes(source, "2021-01-01T00:00:00Z");
    List<String> paths = relativePaths(source);
    paths.sort(Comparator.reverseOrder());
    return TestLayer.fromPaths("middle", source, paths, shared.resolve("middle.tar"));
  }

  /** Builds the top layer, archived in name order, so opaque markers come before their siblings. */
  private static TestLayer topLayer() throws Exception {
    Path source = shared.resolve("source-top");
    write(source, "etc/b", "b from the top layer");
    Files.setAttribute(source.resolve("etc/b"), "unix:mode", 0600);
    write(source, "etc/" + WHITEOUT_PREFIX + "c", "");
    write(source, "opq/new2", "new2 from the top layer");
    write(source, "opq/" + WHITEOUT_PREFIX + "new1", "");
    write(source, "fresh/" + OPAQUE_MARKER, "");
    write(source, "fresh/file", "fresh");
    write(source, WHITEOUT_PREFIX + "nothing", "");
    write(source, "keep-dir/" + OPAQUE_MARKER, "");
    write(source, "keep-dir/y", "y from the top layer");
    setTimes(source, "2022-01-01T00:00:00Z");
    List<String> paths = relativePaths(source);
    paths.sort(Comparator.naturalOrder());
    return TestLayer.fromPaths("top", source, paths, shared.resolve("top.tar"));
  }

  private static void write(Path root, String path, String content) throws IOException {
    Path file = root.resolve(path);
    Files.createDirectories(file.getParent());
    Files.writeString(file, content);
  }

  private static void setTimes(Path root, String time) throws Exception {
    List<Path> paths = new ArrayList<>();
    try (Stream<Path> stream = Files.walk(root)) {
      stream.forEach(paths::add);
    }
    for (int i = paths.size() - 1; i >= 0; i--) {
      Path path = paths.get(i);
      Instant instant = Instant.parse(time).plusSeconds(i);
      if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS)
          || Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
        Files.setLastModifiedTime(path, FileTime.from(instant));
      } else {
        Commands.run("touch", "-h", "-d", instant.toString(), path.toString());
      }
    }
  }

  /** Returns {@code .} and every path under {@code root} as {@code ./relative/path}. */
  private static List<String> relativePaths(Path root) throws IOException {
    List<String> paths = new ArrayList<>();
    try (Stream<Path> stream = Files.walk(root)) {
      stream.forEach(
          path -> {
            String relative = root.relativize(path).toString();
            paths.add(relative.isEmpty() ? "." : "./" + relative);
          });
    }
    return paths;
  }

  /**
   * Applies one layer to the reference tree, as a container runtime unpacks layers. First the
   * layer's opaque directories drop what lower layers put in them and its whiteouts delete the
   * names they hide. Then an entry whose type differs from what is below replaces it, and the rest
   * of the layer is extracted over the tree without the whiteout files.
   */
  private static void applyLayer(TestLayer layer, Path reference, Path extracted) throws Exception {
    layer.extractTo(extracted);
    Map<String, Path> entries = TreeComparison.walk(extracted);

    for (String path : entries.keySet()) {
      Path name = Path.of(path).getFileName();
      if (name == null || !name.toString().startsWith(WHITEOUT_PREFIX)) {
        continue;
      }
      Path parent = reference.resolve(path).getParent();
      if (name.toString().equals(OPAQUE_MARKER)) {
        if (Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) {
          try (Stream<Path> children = Files.list(parent)) {
            for (Path child : children.toList()) {
              deleteRecursively(child);
            }
          }
        }
      } else {
        deleteRecursively(parent.resolve(name.toString().substring(WHITEOUT_PREFIX.length())));
      }
    }

    for (Map.Entry<String, Path> entry : entries.entrySet()) {
      Path target = reference.resolve(entry.getKey());
      boolean bothDirectories =
          Files.isDirectory(entry.getValue(), LinkOption.NOFOLLOW_LINKS)
              && Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS);
      if (!entry.getKey().isEmpty() && !bothDirectories) {
        deleteRecursively(target);
      }
    }

    Commands.run(
        TestLayer.GNU_TAR.toString(),
        "--xattrs",
        "--xattrs-include=*",
        "--numeric-owner",
        "--same-owner",
        "--exclude=" + WHITEOUT_PREFIX + "*",
        "-xpf",
        layer.tarFile.toString(),
        "-C",
        reference.toString());
  }

  private static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
      try (Stream<Path> children = Files.list(path)) {
        for (Path child : children.toList()) {
          deleteRecursively(child);
        }
      }
    }
    Files.delete(path);
  }
}
