package dev.jsoci.snapshotter;

import ch.qos.logback.classic.Level;
import dev.jsoci.config.ConfigFile;
import dev.jsoci.config.InvalidConfigException;
import dev.jsoci.config.JsociConfig;
import dev.jsoci.config.LoadedConfig;
import dev.jsoci.snapshotter.errdefs.SnapshotException;
import dev.jsoci.snapshotter.grpc.SnapshotsService;
import dev.jsoci.snapshotter.grpc.UnixSocketServer;
import dev.jsoci.snapshotter.lazy.ZtocWarmUp;
import dev.jsoci.snapshotter.logging.DaemonLogging;
import dev.jsoci.snapshotter.metadata.MetadataStore;
import dev.jsoci.snapshotter.metrics.DaemonMetrics;
import dev.jsoci.snapshotter.metrics.MetricsEndpoint;
import dev.jsoci.snapshotter.metrics.MetricsServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.SocketAddress;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code jsoci-snapshotter} daemon: serves containerd's Snapshots service on a unix socket
 * until SIGTERM or SIGINT, then stops the server, unmounts remote layers, closes the database and
 * stops the registry client and the span engine.
 *
 * <p>Each option also reads an environment variable, which the command line overrides. Exit status:
 * 0 after {@code --version}, {@code --help} or a successful {@code --check}; 1 when the
 * configuration is invalid or the daemon cannot start; 2 for an invalid command line; 143 after
 * SIGTERM and 130 after SIGINT, as for any JVM stopped by a signal.
 */
@Command(
    name = "jsoci-snapshotter",
    mixinStandardHelpOptions = true,
    versionProvider = Daemon.Version.class,
    description = "Serve containerd's snapshot API with lazily pulled SOCI layers.")
public final class Daemon implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(Daemon.class);

  static final int EXIT_FAILURE = 1;
  static final int EXIT_USAGE = 2;

  static final Path DEFAULT_ROOT = Path.of("/var/lib/jsoci");
  static final Path DEFAULT_SOCKET = Path.of("/run/jsoci/jsoci.sock");

  /** How long running calls may take to finish after a stop signal. */
  private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);

  @Option(
      names = "--config",
      paramLabel = "FILE",
      defaultValue = "${env:JSOCI_SNAPSHOTTER_CONFIG:-/etc/jsoci/config.toml}",
      description =
          "Configuration file (TOML; default: ${DEFAULT-VALUE}). A missing file at the default"
              + " path means the built-in defaults.")
  Path configFile = ConfigFile.DEFAULT_PATH;

  @Option(
      names = "--address",
      paramLabel = "SOCKET",
      defaultValue = "${env:JSOCI_SNAPSHOTTER_ADDRESS:-/run/jsoci/jsoci.sock}",
      description =
          "Unix socket to serve on, as a path or unix://PATH (default: ${DEFAULT-VALUE}).")
  String address = DEFAULT_SOCKET.toString();

  @Option(
      names = "--root",
      paramLabel = "DIR",
      defaultValue = "${env:JSOCI_SNAPSHOTTER_ROOT:-/var/lib/jsoci}",
      description = "Directory for snapshots and their database (default: ${DEFAULT-VALUE}).")
  Path root = DEFAULT_ROOT;

  @Option(
      names = "--log-level",
      paramLabel = "LEVEL",
      defaultValue = "${env:JSOCI_SNAPSHOTTER_LOG_LEVEL:-info}",
      description = "trace, debug, info, warn, error (default: ${DEFAULT-VALUE}).")
  String logLevel = "info";

  @Option(
      names = "--check",
      description =
          "Do not serve: call the daemon listening on --address and report whether it answers.")
  boolean check;

  @Option(
      names = "--check-timeout",
      paramLabel = "SECONDS",
      defaultValue = "0",
      description =
          "With --check, keep trying for this many seconds while the socket does not accept"
              + " connections (default: ${DEFAULT-VALUE}).")
  double checkTimeoutSeconds;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Warnings about the configuration file, logged as soon as logging is set up. */
  private List<String> pendingWarnings = List.of();

  public static void main(String[] args) {
    int status = newCommandLine().execute(args);
    if (status != 0) {
      System.exit(status);
    }
  }

  static CommandLine newCommandLine() {
    CommandLine commandLine = new CommandLine(new Daemon());
    commandLine.setParameterExceptionHandler(
        (exception, args) -> {
          PrintWriter err = exception.getCommandLine().getErr();
          err.println(
              "jsoci-snapshotter: " + exception.getMessage() + " (see 'jsoci-snapshotter --help')");
          err.flush();
          return EXIT_USAGE;
        });
    commandLine.setExecutionExceptionHandler(
        (exception, commandLine1, parseResult) -> {
          PrintWriter err = commandLine1.getErr();
          err.println("jsoci-snapshotter: " + exception.getMessage());
          err.flush();
          return EXIT_FAILURE;
        });
    return commandLine;
  }

  @Override
  public Integer call() throws Exception {
    Path socket = socketPath(address);
    if (check) {
      DaemonLogging.silence();
      return DaemonCheck.run(
          socket,
          Duration.ofMillis((long) (checkTimeoutSeconds * 1000)),
          spec.commandLine().getOut(),
          spec.commandLine().getErr());
    }

    Level level;
    try {
      level = DaemonLogging.parseLevel(logLevel);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    JsociConfig config = loadConfig();
    DaemonLogging.configure(level);
    return serve(config, socket);
  }

  /** Reads the configuration; an invalid file stops the daemon with one line on stderr. */
  private JsociConfig loadConfig() throws IOException {
    LoadedConfig loaded;
    try {
      loaded = ConfigFile.read(configFile);
    } catch (NoSuchFileException e) {
      if (configFile.equals(ConfigFile.DEFAULT_PATH)) {
        return JsociConfig.DEFAULTS;
      }
      throw new InvalidConfigException(configFile + ": config file not found");
    }
    // Logged once logging is set up.
    pendingWarnings = loaded.warnings();
    return loaded.config();
  }

  private int serve(JsociConfig config, Path socket) throws IOException, SnapshotException {
    // Both checks run before anything is mounted, so an invalid socket path or group stops the
    // daemon with nothing to undo.
    UnixSocketServer.checkSocketPath(socket);
    Optional<GroupPrincipal> socketGroup = Optional.empty();
    if (config.socketGroup().isPresent()) {
      socketGroup = Optional.of(UnixSocketServer.lookupGroup(config.socketGroup().get()));
    }
    LOG.atInfo()
        .addKeyValue("version", Version.VERSION)
        .addKeyValue("root", root.toString())
        .log("starting jsoci-snapshotter");
    for (String warning : pendingWarnings) {
      LOG.atWarn().addKeyValue("path", configFile.toString()).log(warning);
    }

    // The metrics address is checked before anything starts, so a bad one stops the daemon at once.
    Optional<SocketAddress> metricsAddress = MetricsEndpoint.address(config.metrics());
    @Nullable DaemonMetrics metrics = metricsAddress.isPresent() ? new DaemonMetrics() : null;

    RootLock rootLock = RootLock.acquire(root);
    LazyPulling lazyPulling;
    try {
      MetadataStore.useNativeLibraryDirectory(root.resolve("native"));
      if (!config.skipCheckSnapshotterSupported()) {
        OverlayProbe.check(root, OverlayOptions.detect());
      }
      lazyPulling = LazyPulling.start(config, root, metrics);
    } catch (IOException | RuntimeException e) {
      rootLock.close();
      throw e;
    }
    SnapshotterOptions options =
        new SnapshotterOptions(
            Optional.of(lazyPulling.mounter()),
            Optional.of(lazyPulling.localUnpacker()),
            config.snapshotter().minLayerSizeBytes(),
            metrics == null ? SnapshotterListener.NONE : metrics.snapshotterListener());
    Snapshotter snapshotter;
    UnixSocketServer server;
    @Nullable MetricsServer metricsServer = null;
    try {
      snapshotter = Snapshotter.open(root, options);
    } catch (IOException | RuntimeException e) {
      try {
        lazyPulling.close();
      } finally {
        rootLock.close();
      }
      throw e;
    }
    try {
      snapshotter.restoreRemoteSnapshots();
      if (metrics != null) {
        metrics.watch(snapshotter);
        metricsServer = MetricsEndpoint.start(config.metrics(), metricsAddress.get(), metrics);
      }
      server = UnixSocketServer.start(socket, new SnapshotsService(snapshotter), socketGroup);
    } catch (IOException | SnapshotException | RuntimeException e) {
      try {
        if (metricsServer != null) {
          metricsServer.close();
        }
        snapshotter.close();
      } finally {
        try {
          lazyPulling.close();
        } finally {
          rootLock.close();
        }
      }
      throw e;
    }
    @Nullable MetricsServer startedMetricsServer = metricsServer;

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  LOG.atInfo().log("stopping jsoci-snapshotter");
                  if (startedMetricsServer != null) {
                    startedMetricsServer.close();
                  }
                  server.shutdown(SHUTDOWN_GRACE);
                  try {
                    snapshotter.close();
                  } catch (IOException e) {
                    LOG.atError().addKeyValue("error", e.getMessage()).log("cannot close cleanly");
                  } finally {
                    // After the snapshotter, which unmounts the layers that use the span engine.
                    lazyPulling.close();
                    // Last, once nothing of this daemon is mounted or open under the root.
                    try {
                      rootLock.close();
                    } catch (IOException e) {
                      LOG.atWarn()
                          .addKeyValue("error", e.getMessage())
                          .log("cannot release the root lock");
                    }
                  }
                  LOG.atInfo().log("Exiting");
                  stopped.countDown();
                },
                "jsoci-shutdown"));
    LOG.atInfo()
        .addKeyValue("address", socket.toString())
        .log("jsoci-snapshotter successfully started");
    ZtocWarmUp.startInBackground();

    // Serve until a signal runs the shutdown hook; the JVM exits when the hook returns.
    while (true) {
      try {
        stopped.await();
        return 0;
      } catch (InterruptedException e) {
        // Nothing interrupts this thread on purpose; keep serving until the hook runs.
      }
    }
  }

  /** Returns the socket path of {@code --address}: a path or {@code unix://PATH}. */
  static Path socketPath(String address) {
    if (address.startsWith("unix://")) {
      return Path.of(address.substring("unix://".length()));
    }
    if (address.contains("://")) {
      // TODO: systemd socket activation (fd://) needs the inherited listening socket, which Netty
      // cannot adopt through grpc-java's builder yet.
      throw new IllegalArgumentException(
          "unsupported address \"" + address + "\": expected a socket path or unix://PATH");
    }
    return Path.of(address);
  }

  /** Reads the version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    static final String VERSION =
        Optional.ofNullable(Daemon.class.getPackage().getImplementationVersion()).orElse("unknown");

    @Override
    public String[] getVersion() {
      return new String[] {"jsoci-snapshotter " + VERSION};
    }
  }
}
