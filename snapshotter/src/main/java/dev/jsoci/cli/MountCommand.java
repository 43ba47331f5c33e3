package dev.jsoci.cli;

import dev.jsoci.config.ConfigFile;
import dev.jsoci.config.InvalidConfigException;
import dev.jsoci.config.JsociConfig;
import dev.jsoci.config.LoadedConfig;
import dev.jsoci.convert.ConvertOptions;
import dev.jsoci.fetcher.discovery.IndexRegistry;
import dev.jsoci.fetcher.discovery.SociIndexDiscovery;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fetcher.registry.ResolvedImage;
import dev.jsoci.fetcher.span.SpanEngine;
import dev.jsoci.fs.OpaqueXattr;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.Platform;
import dev.jsoci.snapshotter.lazy.ImageManifests;
import dev.jsoci.snapshotter.lazy.LazyLayers;
import dev.jsoci.snapshotter.lazy.LazyOptions;
import dev.jsoci.snapshotter.unpack.LayerUnpacker;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import sun.misc.Signal;

/** {@code jsoci mount}: mounts an image's filesystem at a directory until stopped. */
@Command(
    name = "mount",
    mixinStandardHelpOptions = true,
    versionProvider = JsociVersion.class,
    description = {
      "Mount the filesystem of an image at DIR, read-only unless --writable, and keep it mounted"
          + " until SIGINT, SIGTERM or 'jsoci unmount DIR'.",
      "Layers with a zTOC in the image's SOCI index are mounted lazily through FUSE; the others"
          + " are downloaded and unpacked into the state directory. Needs root."
    })
final class MountCommand implements Callable<Integer> {
  private static final Logger logger = LoggerFactory.getLogger(MountCommand.class);
  private static final List<String> STOP_SIGNALS = List.of("TERM", "INT", "HUP");

  @Spec CommandSpec spec;

  @Option(
      names = "--plain-http",
      description =
          "Use http instead of https for every registry (always the case for localhost and"
              + " 127.0.0.1).")
  boolean plainHttp;

  @Mixin HostsDirOption hostsDir;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "The daemon's config.toml, for its registry, fetch and FUSE settings (default: built-in"
              + " defaults).")
  @Nullable Path configFile;

  @Option(
      names = "--platform",
      paramLabel = "OS/ARCH[/VARIANT]",
      description = "The platform to mount from a multi-platform image (default: this host's).")
  @Nullable String platform;

  @Option(
      names = "--writable",
      description =
          "Add an upper directory in the state directory, so that DIR accepts writes; they are"
              + " deleted at unmount.")
  boolean writable;

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      description =
          "Parent of the per-mount state directories (default: /run/jsoci/mount); 'jsoci unmount'"
              + " needs the same value.")
  Path stateBase = MountState.DEFAULT_BASE;

  @Parameters(index = "0", paramLabel = "REF", description = "The image reference.")
  String reference;

  @Parameters(index = "1", paramLabel = "DIR", description = "An existing, empty directory.")
  Path mountPoint;

  @Override
  public Integer call() throws IOException {
    // Check the arguments and the environment before touching anything.
    ImageRef ref = ReferenceArguments.imageRef(spec, reference);
    Platform wanted =
        platform == null
            ? ConvertOptions.detectHostPlatform()
            : ConvertOptions.parsePlatform(platform);
    JsociConfig config = loadConfig();
    RegistryOptions registryOptions =
        hostsDir.applyTo(LazyOptions.registryOptions(config).plainHttp(plainHttp)).build();
    if (!LayerUnpacker.runsAsRoot()) {
      throw new IOException("jsoci mount needs root: overlayfs and FUSE mounts need CAP_SYS_ADMIN");
    }
    MountState state = MountState.of(stateBase, mountPoint);
    checkMountPoint(state, stateBase);
    createState(state);

    // Stop on a signal by counting down, so that unmounting runs on this thread in order.
    CountDownLatch stop = new CountDownLatch(1);
    for (String name : STOP_SIGNALS) {
      Signal.handle(new Signal(name), signal -> stop.countDown());
    }

    PrintWriter out = spec.commandLine().getOut();
    ExecutorService executor = Executors.newCachedThreadPool(daemonThreads());
    try (RegistryClient client = RegistryClient.create(registryOptions);
        SpanEngine engine = SpanEngine.start(LazyOptions.spanOptions(config, state.cache()))) {
      ResolvedImage image = client.resolveImage(ref, wanted);
      LazyLayers lazyLayers =
          new LazyLayers(
              client,
              engine,
              new SociIndexDiscovery(
                  IndexRegistry.of(client), LazyOptions.discoveryOptions(config), executor),
              LazyOptions.fileSystemOptions(config),
              fsname -> LazyOptions.mountOptions(config, fsname),
              new ImageManifests(client, wanted),
              config.prefetch());
      try (lazyLayers;
          ImageMount mounted =
              ImageMount.start(
                  client,
                  lazyLayers,
                  image,
                  LayerUnpacker.forCurrentUser(OpaqueXattr.TRUSTED),
                  state,
                  writable,
                  out)) {
        out.printf(
            "mounted %s at %s (%s)%n",
            ref, state.mountPoint(), writable ? "writable" : "read-only");
        out.flush();
        logger.info("mounted: image={} mountpoint={}", ref, state.mountPoint());
        awaitStop(stop);
        logger.info("unmounting: mountpoint={}", state.mountPoint());
      }
    } catch (IOException | RuntimeException e) {
      try {
        ImageMount.removeState(state);
      } catch (IOException | RuntimeException removing) {
        e.addSuppressed(removing);
      }
      throw e;
    } finally {
      executor.shutdownNow();
    }
    // The span engine is closed by now, so no span is written to the cache meanwhile.
    ImageMount.removeState(state);
    out.printf("unmounted %s%n", state.mountPoint());
    out.flush();
    return 0;
  }

  private JsociConfig loadConfig() throws IOException {
    if (configFile == null) {
      return JsociConfig.DEFAULTS;
    }
    LoadedConfig loaded;
    try {
      loaded = ConfigFile.read(configFile);
    } catch (NoSuchFileException e) {
      throw new InvalidConfigException(configFile + ": config file not found");
    }
    for (String warning : loaded.warnings()) {
      // Each warning starts with the file's path already.
      logger.warn(warning);
    }
    return loaded.config();
  }

  private static void checkMountPoint(MountState state, Path stateBase) throws IOException {
    Path target = state.mountPoint();
    if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(
          "mount point " + target + " does not exist; create an empty directory there first");
    }
    if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
      throw new IOException(
          "mount point "
              + target
              + " is not a directory"
              + (Files.isSymbolicLink(target)
                  ? " but a symbolic link; give the directory itself"
                  : ""));
    }
    if (MountPoints.isMounted(target)) {
      throw new IOException("mount point " + target + " is already mounted");
    }
    try (Stream<Path> entries = Files.list(target)) {
      if (entries.findAny().isPresent()) {
        // Mounting over it would hide its files until the unmount.
        throw new IOException("mount point " + target + " is not empty; give an empty directory");
      }
    }
    if (Files.exists(state.directory())) {
      OptionalLong pid = state.readPid();
      String owner = pid.isPresent() ? " of process " + pid.getAsLong() : "";
      throw new FileAlreadyExistsException(
          "state directory "
              + state.directory()
              + owner
              + " exists for "
              + target
              + "; run 'jsoci unmount"
              + (stateBase.equals(MountState.DEFAULT_BASE) ? "" : " --state-dir " + stateBase)
              + " "
              + target
              + "' first");
    }
  }

  private static void createState(MountState state) throws IOException {
    Path base = state.directory().getParent();
    boolean baseExisted = Files.isDirectory(base);
    Files.createDirectories(base);
    try {
      Files.createDirectory(state.directory());
    } catch (NoSuchFileException e) {
      // Another mount's unmount removed the base, empty, between the two calls.
      baseExisted = false;
      Files.createDirectories(base);
      Files.createDirectory(state.directory());
    }
    if (!baseExisted) {
      Files.createFile(state.createdBaseMarker());
    }
    Files.writeString(
        state.pidFile(), ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
    Files.writeString(state.mountPointFile(), state.mountPoint() + "\n", StandardCharsets.UTF_8);
  }

  private static void awaitStop(CountDownLatch stop) {
    while (true) {
      try {
        stop.await();
        return;
      } catch (InterruptedException e) {
        // Only a stop signal ends the mount.
      }
    }
  }

  private static java.util.concurrent.ThreadFactory daemonThreads() {
    return task -> {
      Thread thread = new Thread(task, "jsoci-mount");
      thread.setDaemon(true);
      return thread;
    };
  }
}
