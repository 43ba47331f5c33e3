package dev.jsoci.it;

import static com.google.common.truth.Truth.assertWithMessage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Debian's containerd 1.6, started for one test class with its own config, root, state and socket
 * in a temporary directory under /tmp, a namespace of its own, and optionally jsoci registered as
 * the proxy snapshotter {@code jsoci}.
 *
 * <p>containerd 1.6 creates {@code /run/containerd/runc/<namespace>} and a few directories there
 * even when {@code state} points elsewhere. {@link #close()} removes the namespace's entries, and
 * the empty directories when /run/containerd did not exist before.
 *
 * <p>Warning: always close it, or containerd outlives the test JVM.
 */
final class LocalContainerd implements AutoCloseable {
  static final Path CONTAINERD = Path.of("/usr/bin/containerd");
  static final Path CTR = Path.of("/usr/bin/ctr");
  static final Path RUNC = Path.of("/usr/sbin/runc");
  static final Path CTR_REMOTE = Path.of("/usr/bin/ctr-remote");
  private static final Path RUN_CONTAINERD = Path.of("/run/containerd");
  private static final long START_TIMEOUT_MILLIS = 20_000;

  final Path directory;
  final Path socket;
  final String namespace = "jsoci-it-" + UUID.randomUUID().toString().substring(0, 8);
  private final boolean runDirectoryExisted;
  private Process process;

  private LocalContainerd(Path directory, boolean runDirectoryExisted) {
    this.directory = directory;
    this.socket = directory.resolve("containerd.sock");
    this.runDirectoryExisted = runDirectoryExisted;
  }

  /** Returns whether containerd, ctr and runc are installed. */
  static boolean isInstalled() {
    return Files.isExecutable(CONTAINERD) && Files.isExecutable(CTR) && Files.isExecutable(RUNC);
  }

  /**
   * Starts containerd and waits until {@code ctr version} succeeds.
   *
   * @param proxySnapshotterSocket the socket of a jsoci daemon to register as snapshotter {@code
   *     jsoci}, or null for none
   */
  static LocalContainerd start(Path proxySnapshotterSocket) throws Exception {
    boolean runDirectoryExisted = Files.exists(RUN_CONTAINERD);
    // A short path keeps the sockets below the 108-byte limit of unix socket addresses.
    LocalContainerd containerd =
        new LocalContainerd(
            Files.createTempDirectory(Path.of("/tmp"), "jsoci-ctd-"), runDirectoryExisted);
    try {
      containerd.launch(proxySnapshotterSocket);
    } catch (Exception e) {
      containerd.close();
      throw e;
    }
    return containerd;
  }

  private void launch(Path proxySnapshotterSocket) throws Exception {
    StringBuilder config = new StringBuilder();
    config.append("version = 2\n");
    config.append("root = \"").append(directory.resolve("root")).append("\"\n");
    config.append("state = \"").append(directory.resolve("state")).append("\"\n");
    config.append("disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n");
    config.append("[grpc]\n  address = \"").append(socket).append("\"\n");
    config.append("[ttrpc]\n  address = \"").append(socket).append(".ttrpc\"\n");
    config.append("[plugins.\"io.containerd.internal.v1.opt\"]\n");
    config.append("  path = \"").append(directory.resolve("opt")).append("\"\n");
    if (proxySnapshotterSocket != null) {
      config.append("[proxy_plugins]\n  [proxy_plugins.jsoci]\n    type = \"snapshot\"\n");
      config.append("    address = \"").append(proxySnapshotterSocket).append("\"\n");
    }
    Files.writeString(directory.resolve("config.toml"), config, StandardCharsets.UTF_8);
    startProcess();
  }

  /**
   * Stops containerd with SIGTERM, as a service manager would, and starts it again with the same
   * config, root, state and socket; waits until {@code ctr version} succeeds.
   */
  void restart() throws Exception {
    stopProcess();
    startProcess();
  }

  private void stopProcess() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private void startProcess() throws Exception {
    Path configFile = directory.resolve("config.toml");
    process =
        new ProcessBuilder(CONTAINERD.toString(), "--config", configFile.toString())
            .redirectErrorStream(true)
            .redirectOutput(
                ProcessBuilder.Redirect.appendTo(directory.resolve("containerd.log").toFile()))
            .start();
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(
            "containerd exited with status " + process.exitValue() + ": " + log());
      }
      if (Files.exists(socket)
          && Processes.start(
                      List.of(CTR.toString(), "--address", socket.toString(), "version"), directory)
                  .status()
              == 0) {
        return;
      }
      Thread.sleep(200);
    }
    throw new IOException("containerd did not answer on " + socket + " within 20 s: " + log());
  }

  String log() throws IOException {
    Path log = directory.resolve("containerd.log");
    return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
  }

  /** Runs {@code ctr} in this containerd's namespace and returns its result, whatever it is. */
  Processes.Result ctr(String... args) throws IOException, InterruptedException {
    return ctrIn(namespace, args);
  }

  /** Runs {@code ctr} in {@code otherNamespace} and returns its result, whatever it is. */
  Processes.Result ctrIn(String otherNamespace, String... args)
      throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(
            List.of(CTR.toString(), "--address", socket.toString(), "--namespace", otherNamespace));
    command.addAll(List.of(args));
    return Processes.start(command, directory);
  }

  /**
   * Pulls {@code reference} over plain http with {@code ctr-remote images rpull}, which sends the
   * remote-snapshot labels that {@code ctr images pull} does not, into {@code snapshotter}.
   */
  Processes.Result rpull(String snapshotter, String reference)
      throws IOException, InterruptedException {
    return Processes.start(
        List.of(
            CTR_REMOTE.toString(),
            "--address",
            socket.toString(),
            "--namespace",
            namespace,
            "images",
            "rpull",
            "--plain-http",
            "--snapshotter",
            snapshotter,
            reference),
        directory);
  }

  /**
   * Waits up to 15 s until containerd reaches the proxy snapshotter {@code snapshotter} again after
   * it restarted. containerd's gRPC connection to a proxy snapshotter backs off for up to 3 s after
   * failed reconnects, and its calls fail with UNAVAILABLE meanwhile.
   */
  void awaitSnapshotter(String snapshotter) throws Exception {
    long deadline = System.currentTimeMillis() + 15_000;
    Processes.Result result = ctr("snapshots", "--snapshotter", snapshotter, "ls");
    while (result.status() != 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(250);
      result = ctr("snapshots", "--snapshotter", snapshotter, "ls");
    }
    assertWithMessage("containerd did not reach the restarted " + snapshotter + ": " + result.err())
        .that(result.status())
        .isEqualTo(0);
  }

  /** Stops containerd by its PID, unmounts what is left under its directory and deletes it. */
  @Override
  public void close() throws Exception {
    if (process != null) {
      stopProcess();
    }
    unmountUnder(directory);
    deleteRecursively(directory);
    cleanRunDirectory();
  }

  /** Unmounts every mount below {@code directory}, deepest first. */
  static void unmountUnder(Path directory) throws Exception {
    List<String> mountpoints = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String mountpoint = unescape(line.split(" ")[4]);
      if (mountpoint.startsWith(directory + "/")) {
        mountpoints.add(mountpoint);
      }
    }
    mountpoints.sort(Comparator.comparingInt(String::length).reversed());
    for (String mountpoint : mountpoints) {
      Processes.start(List.of("umount", mountpoint), Path.of("/"));
    }
  }

  /** Decodes the octal escapes of /proc/self/mountinfo, such as {@code \040} for a space. */
  private static String unescape(String field) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\' && i + 3 < field.length()) {
        text.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        text.append(c);
      }
    }
    return text.toString();
  }

  private void cleanRunDirectory() throws IOException {
    deleteRecursively(RUN_CONTAINERD.resolve("runc").resolve(namespace));
    deleteRecursively(RUN_CONTAINERD.resolve("io.containerd.runtime.v2.task").resolve(namespace));
    if (runDirectoryExisted || !Files.isDirectory(RUN_CONTAINERD)) {
      return;
    }
    for (String child : List.of("runc", "fifo", "s", "io.containerd.runtime.v2.task")) {
      deleteIfEmpty(RUN_CONTAINERD.resolve(child));
    }
    deleteIfEmpty(RUN_CONTAINERD);
  }

  private static void deleteIfEmpty(Path directory) throws IOException {
    if (!Files.isDirectory(directory)) {
      return;
    }
    try (Stream<Path> children = Files.list(directory)) {
      if (children.findAny().isEmpty()) {
        Files.delete(directory);
      }
    }
  }

  static void deleteRecursively(Path directory) throws IOException {
    if (!Files.exists(directory)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(directory)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
