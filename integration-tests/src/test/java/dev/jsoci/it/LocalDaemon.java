package dev.jsoci.it;

import static com.google.common.truth.Truth.assertWithMessage;

import dev.jsoci.snapshotter.grpc.api.snapshots.Info;
import dev.jsoci.snapshotter.grpc.api.snapshots.ListSnapshotsRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.SnapshotsGrpc;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A jsoci-snapshotter daemon started from the test class path, with its root, socket, config file
 * and logs in a temporary directory under {@code /tmp} that {@link #close()} unmounts and deletes.
 * It can be stopped and started again on the same root, as a restart on a node would.
 */
final class LocalDaemon implements AutoCloseable {
  private final Path directory;
  private Process process;
  private int starts;

  private LocalDaemon(Path directory) {
    this.directory = directory;
  }

  /**
   * Starts a daemon with {@code config} as its config.toml and waits until it serves calls.
   *
   * @param prefix the name prefix of its temporary directory
   */
  static LocalDaemon start(String prefix, String config) throws Exception {
    LocalDaemon daemon = new LocalDaemon(Files.createTempDirectory(Path.of("/tmp"), prefix));
    Files.writeString(daemon.directory.resolve("config.toml"), config);
    daemon.start();
    return daemon;
  }

  Path directory() {
    return directory;
  }

  Path socket() {
    return directory.resolve("run").resolve("jsoci.sock");
  }

  /** Starts the daemon again on the same root, and waits until a call to it succeeds. */
  void start() throws Exception {
    starts++;
    process =
        new ProcessBuilder(
                command(
                    "--root", directory.resolve("root").toString(),
                    "--address", socket().toString(),
                    "--config", directory.resolve("config.toml").toString(),
                    "--log-level", "debug"))
            .redirectErrorStream(true)
            .redirectOutput(directory.resolve("daemon-" + starts + ".log").toFile())
            .start();
    Processes.Result check =
        Processes.start(
            command("--check", "--check-timeout", "30", "--address", socket().toString()),
            directory);
    assertWithMessage("jsoci-snapshotter --check: " + check.err() + log())
        .that(check.status())
        .isEqualTo(0);
  }

  /**
   * Stops the daemon with SIGTERM, or SIGKILL when it does not stop within 20 s, and returns its
   * exit status; -1 when it is not running.
   */
  int stop() throws Exception {
    if (process == null) {
      return -1;
    }
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    int status = process.exitValue();
    process = null;
    return status;
  }

  /** Returns the process id of the running daemon. */
  long pid() {
    return process.pid();
  }

  /** Kills the daemon with SIGKILL, leaving its mounts and database as a crash would. */
  void kill() throws Exception {
    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    process = null;
  }

  /**
   * Runs a second daemon on this daemon's root with its own socket and returns how it ended. It is
   * killed if it runs longer than the process timeout.
   */
  Processes.Result startSecondOnSameRoot() throws Exception {
    return Processes.start(
        command(
            "--root", directory.resolve("root").toString(),
            "--address", directory.resolve("second.sock").toString(),
            "--config", directory.resolve("config.toml").toString()),
        directory);
  }

  /** Lists the copies of sqlite-jdbc's native library under the root, by file name. */
  List<String> nativeLibraryCopies() throws IOException {
    try (Stream<Path> files = Files.list(directory.resolve("root").resolve("native"))) {
      return files
          .map(file -> file.getFileName().toString())
          .filter(name -> name.endsWith(".so"))
          .sorted()
          .collect(Collectors.toList());
    }
  }

  /** Returns the output of the latest start. */
  String log() throws IOException {
    Path log = directory.resolve("daemon-" + starts + ".log");
    return Files.exists(log) ? Files.readString(log) : "";
  }

  /** Lists the snapshots that the daemon stores, by calling it directly. */
  List<Info> snapshots(String... filters) throws Exception {
    ManagedChannel channel =
        Grpc.newChannelBuilder("unix://" + socket(), InsecureChannelCredentials.create()).build();
    try {
      List<Info> infos = new ArrayList<>();
      SnapshotsGrpc.newBlockingStub(channel)
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .list(ListSnapshotsRequest.newBuilder().addAllFilters(List.of(filters)).build())
          .forEachRemaining(response -> infos.addAll(response.getInfoList()));
      return infos;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** Stops the daemon, unmounts what it left under its directory and deletes the directory. */
  @Override
  public void close() throws Exception {
    try {
      stop();
    } finally {
      LocalContainerd.unmountUnder(directory);
      LocalContainerd.deleteRecursively(directory);
    }
  }

  private static List<String> command(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.jsoci.snapshotter.Daemon");
    command.addAll(List.of(args));
    return command;
  }
}
