package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static java.nio.charset.StandardCharsets.UTF_8;
import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.Platform;
import dev.jsoci.testing.LocalRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code jsoci mount} in its own JVM on a converted three-layer image in a loopback
 * docker-registry, compares the mounted tree with the image unpacked by GNU tar, then stops the
 * mount with {@code jsoci unmount} or SIGTERM and checks that no mount is left.
 *
 * <p>Layers, bottom first: {@code base} (gzip, 1.5 MiB of random data, gets a zTOC), {@code small}
 * (gzip, a few KiB, below the minimum layer size, so it is unpacked) with a whiteout and an opaque
 * directory, and {@code top} (gzip, 1.2 MiB, gets a zTOC) with a whiteout of a directory and
 * another opaque directory.
 */
class MountIT {
  private static final Platform AMD64 = Platform.of("linux", "amd64");
  private static final long MIN_LAYER_SIZE = 1_000_000;
  private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

  @TempDir static Path work;
  private static LocalRegistry registry;
  private static String reference;
  private static Path expected;

  private Path mountPoint;
  private Path stateBase;
  private Process mountProcess;
  private Path mountOutput;

  @BeforeAll
  static void buildConvertAndUnpackImage() throws Exception {
    assumeTrue(isRoot(), "needs root for overlayfs and FUSE mounts");
    assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing");
    assumeTrue(
        Files.readString(Path.of("/proc/filesystems")).contains("\toverlay\n"),
        "the kernel has no overlayfs");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/fusermount")), "fusermount is not installed");
    assumeTrue(LocalRegistry.isInstalled(), "docker-registry is not installed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/setfattr")), "attr is not installed");

    OciLayout layout = OciLayout.create(work.resolve("layout"));
    List<OciLayout.Layer> layers = new ArrayList<>();
    List<Path> tars = new ArrayList<>();
    for (String name : List.of("base", "small", "top")) {
      Path tree = work.resolve("tree-" + name);
      Files.createDirectories(tree);
      List<String> members = writeTree(name, tree);
      // The upper layers list their files only, as tar --no-recursion and many image builders do.
      List<String> tarOptions = name.equals("base") ? List.of() : List.of("--no-recursion");
      OciLayout.Layer layer = layout.addTarLayer(tree, members, true, tarOptions, work, name);
      layers.add(layer);
      tars.add(work.resolve(name + ".tar"));
    }
    Descriptor manifest = layout.writeImage(AMD64, layers);
    layout.writeIndex(List.of(manifest.toBuilder().platform(AMD64).build()));

    registry = LocalRegistry.start(null);
    layout.pushWithSkopeo(registry.host() + "/mount:v1");
    reference = registry.host() + "/mount-soci:v1";
    jsoci(
        "convert",
        "--plain-http",
        "--platform",
        "linux/amd64",
        "--min-layer-size",
        Long.toString(MIN_LAYER_SIZE),
        registry.host() + "/mount:v1",
        reference);

    expected = Files.createDirectory(work.resolve("expected"));
    for (Path tar : tars) {
      extractWithWhiteouts(tar, expected);
    }
  }

  @AfterAll
  static void stopRegistry() {
    if (registry != null) {
      registry.close();
    }
  }

  /** Writes the files of one layer under {@code tree} and returns its top-level names. */
  private static List<String> writeTree(String layer, Path tree) throws IOException {
    switch (layer) {
      case "base" -> {
        write(tree, "data/base.bin", randomBytes(1536 * 1024, 1), "rw-r--r--");
        write(tree, "etc/hostname", "image\n".getBytes(UTF_8), "rw-r--r--");
        write(tree, "etc/remove-me", "gone above\n".getBytes(UTF_8), "rw-------");
        write(tree, "etc/conf/a.conf", "a=1\n".getBytes(UTF_8), "rw-r--r--");
        write(tree, "etc/conf/b.conf", "b=1\n".getBytes(UTF_8), "rw-r--r--");
        write(tree, "usr/bin/tool", "#!/bin/sh\necho tool\n".getBytes(UTF_8), "rwxr-xr-x");
        Files.createLink(tree.resolve("usr/bin/tool-link"), tree.resolve("usr/bin/tool"));
        Files.createSymbolicLink(tree.resolve("bin"), Path.of("usr/bin"));
        write(tree, "opt/old/file", "old\n".getBytes(UTF_8), "rw-r--r--");
        write(tree, "var/lib/state", "lower\n".getBytes(UTF_8), "rw-r-----");
        Files.createDirectories(tree.resolve("var/empty"));
        Files.setPosixFilePermissions(
            tree.resolve("var/empty"), PosixFilePermissions.fromString("rwx------"));
        write(tree, "srv/private/key", "secret\n".getBytes(UTF_8), "rw-------");
        Files.setPosixFilePermissions(
            tree.resolve("srv/private"), PosixFilePermissions.fromString("rwx--x---"));
        return List.of("bin", "data", "etc", "opt", "srv", "usr", "var");
      }
      case "small" -> {
        write(tree, "etc/.wh.remove-me", new byte[0], "rw-r--r--");
        write(tree, "etc/conf/.wh..wh..opq", new byte[0], "rw-r--r--");
        write(tree, "etc/conf/c.conf", "c=2\n".getBytes(UTF_8), "rw-r--r--");
        write(tree, "usr/bin/small", "small\n".getBytes(UTF_8), "rwxr-x---");
        Files.createSymbolicLink(tree.resolve("etc/alias"), Path.of("../usr/bin/small"));
        // Unpacked by jsoci, being small: the same parent as in the top layer, mounted lazily.
        write(tree, "srv/private/unpacked", "unpacked\n".getBytes(UTF_8), "rw-r--r--");
        return List.of(
            "etc/.wh.remove-me",
            "etc/alias",
            "etc/conf/.wh..wh..opq",
            "etc/conf/c.conf",
            "srv/private/unpacked",
            "usr/bin/small");
      }
      default -> {
        // Files only: srv/private keeps the base layer's mode.
        write(tree, "data/top.bin", randomBytes(1200 * 1024, 2), "rw-r--r--");
        write(tree, "opt/.wh.old", new byte[0], "rw-r--r--");
        write(tree, "var/.wh..wh..opq", new byte[0], "rw-r--r--");
        write(tree, "var/new", "upper\n".getBytes(UTF_8), "rw-r--r--");
        write(tree, "etc/hostname", "changed\n".getBytes(UTF_8), "rw-rw-r--");
        write(tree, "srv/private/added", "added\n".getBytes(UTF_8), "rw-r--r--");
        return List.of(
            "data/top.bin",
            "etc/hostname",
            "opt/.wh.old",
            "srv/private/added",
            "var/.wh..wh..opq",
            "var/new");
      }
    }
  }

  private static void write(Path tree, String name, byte[] content, String permissions)
      throws IOException {
    Path path = tree.resolve(name);
    Files.createDirectories(path.getParent());
    Files.write(path, content);
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
  }

  private static byte[] randomBytes(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /**
   * Applies one layer tar to {@code root} as an image runtime does: each {@code .wh..wh..opq}
   * empties its directory and each {@code .wh.NAME} removes {@code NAME}, then GNU tar extracts
   * every other entry.
   */
  private static void extractWithWhiteouts(Path tar, Path root) throws Exception {
    String listing = Processes.run(List.of("tar", "-tf", tar.toString()), work).out();
    for (String entry : listing.split("\n")) {
      String name = entry.endsWith("/") ? entry.substring(0, entry.length() - 1) : entry;
      Path path = root.resolve(name);
      String base = path.getFileName().toString();
      if (base.equals(".wh..wh..opq")) {
        try (Stream<Path> children = Files.list(path.getParent())) {
          for (Path child : children.toList()) {
            deleteRecursively(child);
          }
        } catch (java.nio.file.NoSuchFileException e) {
          // Nothing below to hide.
        }
      } else if (base.startsWith(".wh.")) {
        deleteRecursively(path.resolveSibling(base.substring(".wh.".length())));
      }
    }
    Processes.run(
        List.of(
            "tar",
            "-xpf",
            tar.toString(),
            "-C",
            root.toString(),
            "--exclude=.wh.*",
            "--numeric-owner"),
        work);
  }

  private static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path, NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(path)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /**
   * Describes every entry under {@code root} by relative path: type, permission bits, and for
   * regular files the size and SHA-256 of the bytes, for symbolic links the target.
   */
  private static Map<String, String> describeTree(Path root) throws IOException {
    Map<String, String> tree = new TreeMap<>();
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.toList()) {
        if (path.equals(root)) {
          continue;
        }
        BasicFileAttributes attributes =
            Files.readAttributes(path, BasicFileAttributes.class, NOFOLLOW_LINKS);
        int mode = (int) Files.getAttribute(path, "unix:mode", NOFOLLOW_LINKS);
        String description;
        if (attributes.isSymbolicLink()) {
          description = "symlink -> " + Files.readSymbolicLink(path);
        } else if (attributes.isDirectory()) {
          description = String.format("dir %04o", mode & 07777);
        } else if (attributes.isRegularFile()) {
          description =
              String.format(
                  "file %04o size %d sha256 %s",
                  mode & 07777,
                  attributes.size(),
                  Digest.sha256Of(Files.readAllBytes(path)).encoded());
        } else {
          description = String.format("other %06o", mode);
        }
        tree.put(root.relativize(path).toString(), description);
      }
    }
    return tree;
  }

  private static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException e) {
      return false;
    }
  }

  private static Processes.Result jsoci(String... args) throws Exception {
    Processes.Result result = Processes.jsoci(work, args);
    assertWithMessage(
            "jsoci "
                + String.join(" ", args)
                + "\nstdout: "
                + result.out()
                + "\nstderr: "
                + result.err())
        .that(result.status())
        .isEqualTo(0);
    return result;
  }

  /** Returns the mount points in this process's mount table at or below {@code directory}. */
  private static List<String> mountsUnder(Path directory) throws IOException {
    List<String> found = new ArrayList<>();
    for (String line : Files.readAllLines(MOUNTINFO)) {
      String mountPoint = line.split(" ")[4];
      if (mountPoint.equals(directory.toString()) || mountPoint.startsWith(directory + "/")) {
        found.add(mountPoint);
      }
    }
    return found;
  }

  /** Starts {@code jsoci mount} and waits until the overlay appears at the mount point. */
  private void startMount(String name) throws Exception {
    startMount(name, reference);
  }

  /**
   * Starts {@code jsoci mount} of {@code image} with {@code options} before the image, and waits
   * until the overlay appears at the mount point.
   */
  private void startMount(String name, String image, String... options) throws Exception {
    mountPoint = Files.createDirectory(work.resolve("mnt-" + name));
    stateBase = work.resolve("state-" + name);
    mountOutput = work.resolve("mount-" + name + ".out");
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "dev.jsoci.cli.Main",
                "mount",
                "--plain-http",
                "--platform",
                "linux/amd64",
                "--state-dir",
                stateBase.toString()));
    command.addAll(List.of(options));
    command.add(image);
    command.add(mountPoint.toString());
    mountProcess =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(mountOutput.toFile())
            .start();

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!Files.readString(mountOutput).contains("mounted " + image)) {
      assertWithMessage("jsoci mount exited early:\n" + Files.readString(mountOutput))
          .that(mountProcess.isAlive())
          .isTrue();
      assertWithMessage("jsoci mount did not finish within 90 s:\n" + Files.readString(mountOutput))
          .that(System.nanoTime() < deadline)
          .isTrue();
      Thread.sleep(100);
    }
    assertThat(mountsUnder(mountPoint)).containsExactly(mountPoint.toString());
  }

  private void assertMountedTreeMatchesImage() throws Exception {
    String output = Files.readString(mountOutput);
    assertThat(output).containsMatch("layer 1/3 sha256:[0-9a-f]{64} lazy ");
    assertThat(output).containsMatch("layer 2/3 sha256:[0-9a-f]{64} unpacked ");
    assertThat(output).containsMatch("layer 3/3 sha256:[0-9a-f]{64} lazy ");
    assertThat(mountsUnder(stateBase)).hasSize(2);

    Map<String, String> mounted = describeTree(mountPoint);
    Map<String, String> reference = describeTree(expected);
    assertThat(mounted).containsExactlyEntriesIn(reference);
    // Spot checks that the comparison covers the whiteouts and opaque directories.
    assertThat(mounted).doesNotContainKey("etc/remove-me");
    assertThat(mounted).doesNotContainKey("etc/conf/a.conf");
    assertThat(mounted).doesNotContainKey("opt/old");
    assertThat(mounted).doesNotContainKey("var/lib");
    assertThat(mounted).containsKey("etc/conf/c.conf");
    assertThat(mounted).containsKey("var/new");
    assertThat(Files.readString(mountPoint.resolve("etc/hostname"))).isEqualTo("changed\n");
  }

  private void assertNothingLeft() throws Exception {
    assertWithMessage("jsoci mount did not exit")
        .that(mountProcess.waitFor(60, TimeUnit.SECONDS))
        .isTrue();
    assertWithMessage(Files.readString(mountOutput)).that(mountProcess.exitValue()).isEqualTo(0);
    assertThat(Files.readString(mountOutput)).contains("unmounted " + mountPoint);
    assertThat(mountsUnder(mountPoint)).isEmpty();
    assertThat(mountsUnder(stateBase)).isEmpty();
    // jsoci mount created the state base directory, so the last unmount removes it.
    assertThat(Files.exists(stateBase, LinkOption.NOFOLLOW_LINKS)).isFalse();
    try (Stream<Path> entries = Files.list(mountPoint)) {
      assertThat(entries.toList()).isEmpty();
    }
  }

  @AfterEach
  void stopMountAndUnmountLeftovers() throws Exception {
    if (mountProcess != null && mountProcess.isAlive()) {
      mountProcess.destroy();
      if (!mountProcess.waitFor(60, TimeUnit.SECONDS)) {
        mountProcess.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    // Whatever a failed test left: the overlay first, then the FUSE layers.
    for (Path directory : new Path[] {mountPoint, stateBase}) {
      if (directory == null) {
        continue;
      }
      for (String leftover : mountsUnder(directory)) {
        new ProcessBuilder("umount", "-l", leftover).inheritIO().start().waitFor();
      }
    }
  }

  @Test
  void mount_unmountCommand_removesEveryMount() throws Exception {
    startMount("unmount");

    assertMountedTreeMatchesImage();
    Processes.Result unmount =
        jsoci("unmount", "--state-dir", stateBase.toString(), mountPoint.toString());

    assertThat(unmount.out()).isEqualTo("unmounted " + mountPoint + "\n");
    assertNothingLeft();
  }

  @Test
  void unmount_busyMount_explainsTheWait() throws Exception {
    startMount("busy");
    // A process whose working directory is in the image keeps the mount busy.
    Process busy = new ProcessBuilder("sleep", "60").directory(mountPoint.toFile()).start();
    try {
      Processes.Result unmount =
          Processes.jsoci(
              work,
              "unmount",
              "--timeout",
              "3",
              "--state-dir",
              stateBase.toString(),
              mountPoint.toString());

      assertThat(unmount.status()).isEqualTo(1);
      assertThat(unmount.err())
          .contains(
              "did not exit within 3 s after SIGTERM: its mount point is detached already, and it"
                  + " serves the processes that still use files of the image");
    } finally {
      busy.destroy();
      busy.waitFor(10, TimeUnit.SECONDS);
    }
    assertThat(mountProcess.waitFor(60, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void mount_configuredMirror_servesImageOfDeadOrigin() throws Exception {
    // The origin is a loopback port that nothing listens on, so every byte comes from the mirror.
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    String origin = "127.0.0.1:" + closedPort;
    Path config = work.resolve("mirror-config.toml");
    Files.writeString(
        config,
        "[[resolver.host.\"" + origin + "\".mirrors]]\nhost = \"" + registry.host() + "\"\n");

    startMount("mirror", origin + "/mount-soci:v1", "--config", config.toString());

    assertMountedTreeMatchesImage();
    Processes.Result unmount =
        jsoci("unmount", "--state-dir", stateBase.toString(), mountPoint.toString());
    assertThat(unmount.out()).isEqualTo("unmounted " + mountPoint + "\n");
    assertNothingLeft();
  }

  @Test
  void mount_sigterm_removesEveryMount() throws Exception {
    startMount("sigterm");

    assertMountedTreeMatchesImage();
    mountProcess.destroy();

    assertNothingLeft();
  }

  @Test
  void unmount_afterKill_removesLeftovers() throws Exception {
    startMount("kill");
    mountProcess.destroyForcibly();
    assertThat(mountProcess.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(mountsUnder(mountPoint)).containsExactly(mountPoint.toString());

    Processes.Result unmount =
        jsoci("unmount", "--state-dir", stateBase.toString(), mountPoint.toString());

    assertThat(unmount.out()).isEqualTo("unmounted " + mountPoint + "\n");
    assertThat(mountsUnder(mountPoint)).isEmpty();
    assertThat(mountsUnder(stateBase)).isEmpty();
    // jsoci mount created the state base directory, so the last unmount removes it.
    assertThat(Files.exists(stateBase, LinkOption.NOFOLLOW_LINKS)).isFalse();
  }

  /** Runs {@code jsoci mount} of {@code image} that is expected to fail before it mounts. */
  private Processes.Result mountOnce(String image, Path directory, Path state) throws Exception {
    return Processes.jsoci(
        work,
        "mount",
        "--plain-http",
        "--state-dir",
        state.toString(),
        image,
        directory.toString());
  }

  @Test
  void mount_missingImage_leavesNothing() throws Exception {
    Path directory = Files.createDirectory(work.resolve("mnt-missing"));
    Path state = work.resolve("state-missing");

    Processes.Result result = mountOnce(registry.host() + "/absent:v1", directory, state);

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.err().strip().lines().count()).isEqualTo(1);
    assertThat(result.err()).contains("absent");
    assertThat(mountsUnder(directory)).isEmpty();
    // A failed start removes its state, and with it the state base directory it created.
    assertThat(Files.exists(state, LinkOption.NOFOLLOW_LINKS)).isFalse();
  }

  @Test
  void mount_nonEmptyDirectory_isRefused() throws Exception {
    Path directory = Files.createDirectory(work.resolve("mnt-not-empty"));
    Files.writeString(directory.resolve("kept"), "mine\n");
    Path state = work.resolve("state-not-empty");

    Processes.Result result = mountOnce(reference, directory, state);

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.err().strip())
        .isEqualTo("jsoci: mount point " + directory + " is not empty; give an empty directory");
    assertThat(mountsUnder(directory)).isEmpty();
    assertThat(Files.readString(directory.resolve("kept"))).isEqualTo("mine\n");
    assertThat(Files.exists(state, LinkOption.NOFOLLOW_LINKS)).isFalse();
  }

  @Test
  void unmount_notMounted_fails() throws Exception {
    Path directory = Files.createDirectory(work.resolve("never-mounted"));

    Processes.Result result =
        Processes.jsoci(
            work,
            "unmount",
            "--state-dir",
            work.resolve("no-state").toString(),
            directory.toString());

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.err().strip().lines().count()).isEqualTo(1);
    assertThat(result.err()).startsWith("jsoci: " + directory + " is not mounted by jsoci mount");
  }
}
