package dev.jsoci.snapshotter;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.snapshotter.grpc.SnapshotsService;
import dev.jsoci.snapshotter.grpc.UnixSocketServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DaemonTest {
  @TempDir Path directory;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine commandLine = Daemon.newCommandLine();
    commandLine.setOut(new PrintWriter(out));
    commandLine.setErr(new PrintWriter(err));
    return commandLine.execute(args);
  }

  @Test
  void invalidConfig_stopsWithOneLineNamingFileKeyAndValue() throws Exception {
    Path config = directory.resolve("config.toml");
    Files.writeString(config, "[background_fetch]\ndrop_policy = \"fastest\"\n");

    int status =
        run(
            "--config", config.toString(),
            "--root", directory.resolve("root").toString(),
            "--address", directory.resolve("jsoci.sock").toString());

    assertThat(status).isEqualTo(1);
    assertThat(err.toString())
        .isEqualTo(
            "jsoci-snapshotter: "
                + config
                + ": invalid value \"fastest\" for background_fetch.drop_policy: "
                + "expected one of \"newest\" \"oldest\""
                + System.lineSeparator());
    assertThat(Files.exists(directory.resolve("root"))).isFalse();
  }

  @Test
  void invalidMetricsAddress_stopsBeforeCreatingRoot() throws Exception {
    Path config = directory.resolve("config.toml");
    Files.writeString(config, "metrics_address = \"localhost:metrics\"\n");
    Path root = directory.resolve("root");

    int status =
        run(
            "--config", config.toString(),
            "--root", root.toString(),
            "--address", directory.resolve("jsoci.sock").toString());

    assertThat(status).isEqualTo(1);
    assertThat(err.toString().trim())
        .isEqualTo(
            "jsoci-snapshotter: invalid metrics_address \"localhost:metrics\" for"
                + " metrics_network = \"tcp\": the port is not a number");
    assertThat(Files.exists(root)).isFalse();
  }

  @Test
  void missingConfigAtOtherPath_isAnError() {
    Path config = directory.resolve("missing.toml");

    int status = run("--config", config.toString(), "--root", directory.toString());

    assertThat(status).isEqualTo(1);
    assertThat(err.toString().trim())
        .isEqualTo("jsoci-snapshotter: " + config + ": config file not found");
  }

  @Test
  void invalidLogLevel_isAUsageError() {
    int status = run("--log-level", "loud");

    assertThat(status).isEqualTo(2);
    assertThat(err.toString()).startsWith("jsoci-snapshotter: invalid log level \"loud\"");
  }

  @Test
  void check_withoutDaemon_fails() {
    Path socket = directory.resolve("none.sock");

    int status = run("--check", "--address", socket.toString());

    assertThat(status).isEqualTo(1);
    assertThat(err.toString().trim())
        .isEqualTo("jsoci-snapshotter: no daemon accepts connections on " + socket);
  }

  @Test
  void check_withDaemon_reportsTheAnswer() throws Exception {
    Path socket = directory.resolve("jsoci.sock");
    try (Snapshotter snapshotter =
            Snapshotter.open(directory.resolve("root"), SnapshotterOptions.NO_REMOTE_LAYERS);
        UnixSocketServer server =
            UnixSocketServer.start(socket, new SnapshotsService(snapshotter))) {

      int status = run("--check", "--address", "unix://" + socket);

      assertThat(status).isEqualTo(0);
      assertThat(out.toString())
          .matches("ok: jsoci-snapshotter at " + Pattern.quote(socket.toString())
              + " answered in [0-9]+ ms, at [0-9T:.Z-]+\\R");
    }
  }

  @Test
  void socketPath_acceptsPathsAndUnixUrls() {
    assertThat(Daemon.socketPath("/run/jsoci/jsoci.sock"))
        .isEqualTo(Path.of("/run/jsoci/jsoci.sock"));
    assertThat(Daemon.socketPath("unix:///run/x.sock")).isEqualTo(Path.of("/run/x.sock"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Daemon.socketPath("fd://"));
    assertThat(e)
        .hasMessageThat()
        .isEqualTo("unsupported address \"fd://\": expected a socket path or unix://PATH");
  }
}
