package dev.jsoci.snapshotter;

import dev.jsoci.config.BackgroundFetchConfig;
import dev.jsoci.config.JsociConfig;
import dev.jsoci.convert.ConvertOptions;
import dev.jsoci.fetcher.discovery.DiscoveryOptions;
import dev.jsoci.fetcher.discovery.IndexRegistry;
import dev.jsoci.fetcher.discovery.SociIndexDiscovery;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fetcher.span.SpanEngine;
import dev.jsoci.fetcher.span.SpanOptions;
import dev.jsoci.fs.FileSystemOptions;
import dev.jsoci.fs.fuse.MountOptions;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.snapshotter.lazy.LazyLayers;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The parts of the daemon that pull layers lazily: the registry client, the span engine, SOCI index
 * discovery and the {@link FuseLayerMounter} built on them, configured from {@code config.toml}.
 *
 * <p>Warning: close it after the snapshotter, which unmounts the layers first; closing it stops the
 * background fetcher and the registry client.
 */
final class LazyPulling implements AutoCloseable {
  /** Spans fetched ahead of a sequential reader. */
  static final int READAHEAD_SPANS = 2;

  /**
   * The span size that turns {@code fetch_period_msec} into a byte rate: 4 MiB, the span size of
   * soci-snapshotter's and jsoci's index builders unless configured otherwise.
   */
  static final long ASSUMED_SPAN_BYTES = 4L << 20;

  /** Threads that fetch the zTOCs of an index in parallel during discovery. */
  private static final int DISCOVERY_THREADS = 4;

  private static final Duration UNMOUNT_TIMEOUT = Duration.ofSeconds(30);

  private final RegistryClient client;
  private final SpanEngine engine;
  private final ExecutorService discoveryExecutor;
  private final FuseLayerMounter mounter;

  private LazyPulling(
      RegistryClient client,
      SpanEngine engine,
      ExecutorService discoveryExecutor,
      FuseLayerMounter mounter) {
    this.client = client;
    this.engine = engine;
    this.discoveryExecutor = discoveryExecutor;
    this.mounter = mounter;
  }

  /**
   * Starts the registry client and the span engine; the disk span cache lives in {@code
   * <root>/spans} unless {@code filesystem_cache_type = "memory"}.
   *
   * @throws IOException if the disk span cache cannot be opened
   */
  static LazyPulling start(JsociConfig config, Path root) throws IOException {
    RegistryClient client = RegistryClient.create(registryOptions(config));
    SpanEngine engine;
    try {
      engine = SpanEngine.start(spanOptions(config, root));
    } catch (IOException | RuntimeException e) {
      client.close();
      throw e;
    }
    ExecutorService discoveryExecutor =
        Executors.newFixedThreadPool(DISCOVERY_THREADS, daemonThreads("jsoci-discovery-"));
    SociIndexDiscovery discovery =
        new SociIndexDiscovery(
            IndexRegistry.of(client), discoveryOptions(config), discoveryExecutor);
    LazyLayers layers =
        new LazyLayers(
            client,
            engine,
            discovery,
            fileSystemOptions(config),
            fsname -> mountOptions(config, fsname),
            ConvertOptions.detectHostPlatform());
    FuseLayerMounter mounter =
        new FuseLayerMounter(
            layers,
            (repository, layer) -> probeBlob(client, repository, layer),
            config.blob().validInterval(),
            UNMOUNT_TIMEOUT,
            Clock.systemUTC());
    return new LazyPulling(client, engine, discoveryExecutor, mounter);
  }

  RemoteLayerMounter mounter() {
    return mounter;
  }

  /**
   * Registry settings from {@code [http]}. Hosts come from containerd's {@code
   * /etc/containerd/certs.d}, and {@code localhost} and loopback registries use plain HTTP, as in
   * containerd.
   */
  static RegistryOptions registryOptions(JsociConfig config) {
    // TODO: [resolver] mirrors and [blob] retry settings are read but not applied: the client takes
    // mirrors from hosts.toml only, and one client with the [http] retries serves every request.
    return RegistryOptions.builder()
        .connectTimeout(config.http().dialTimeout())
        .readTimeout(config.http().responseHeaderTimeout())
        .callTimeout(config.http().requestTimeout())
        .maxRetries(config.http().maxRetries())
        .minBackoff(config.http().minWait())
        .maxBackoff(config.http().maxWait())
        .userAgent("jsoci-snapshotter")
        .build();
  }

  static SpanOptions spanOptions(JsociConfig config, Path root) {
    BackgroundFetchConfig background = config.backgroundFetch();
    SpanOptions.Builder options =
        SpanOptions.builder()
            .verificationRetries(config.blob().maxSpanVerificationRetries())
            .backgroundFetch(!background.disable())
            .backgroundBytesPerSecond(backgroundBytesPerSecond(background.fetchPeriod()))
            .readaheadSpans(READAHEAD_SPANS);
    if (config.spanCacheType() == JsociConfig.SpanCacheType.DISK) {
      options.diskCacheDirectory(root.resolve("spans"));
    }
    return options.build();
  }

  /**
   * Returns the background rate that starts one span fetch per {@code fetchPeriod}, for spans of
   * {@link #ASSUMED_SPAN_BYTES}: 8 MiB/s for the default 500 ms.
   */
  static long backgroundBytesPerSecond(Duration fetchPeriod) {
    long periodMillis = Math.max(1, fetchPeriod.toMillis());
    return Math.max(1, ASSUMED_SPAN_BYTES * 1000 / periodMillis);
  }

  static DiscoveryOptions discoveryOptions(JsociConfig config) {
    return DiscoveryOptions.defaults()
        .withV1Enabled(config.pullModes().sociV1Enabled())
        .withV2Enabled(config.pullModes().sociV2Enabled());
  }

  /**
   * File system settings: a read waits at most {@code [blob] fetching_timeout_sec}, and tar headers
   * are checked unless {@code disable_verification} is set.
   */
  static FileSystemOptions fileSystemOptions(JsociConfig config) {
    return FileSystemOptions.builder()
        .readTimeout(config.blob().fetchingTimeout())
        .verifyTarHeaders(!config.disableVerification())
        .build();
  }

  /** FUSE mount options with the {@code [fuse]} cache timeouts and {@code mount_timeout_sec}. */
  static MountOptions mountOptions(JsociConfig config, String fsname) {
    return MountOptions.builder(fsname)
        .entryTimeout(config.fuse().entryTimeout())
        .attrTimeout(config.fuse().attrTimeout())
        .negativeTimeout(config.fuse().negativeTimeout())
        .mountTimeout(config.mountTimeout())
        .unmountTimeout(UNMOUNT_TIMEOUT)
        .build();
  }

  /** Sends a {@code HEAD} for the blob; a 404 means the layer can no longer be read. */
  private static void probeBlob(RegistryClient client, ImageRef repository, Digest layer)
      throws IOException {
    OptionalLong size = client.findBlobSize(repository, layer);
    if (size.isEmpty()) {
      throw new IOException("the registry no longer has blob " + layer + " of " + repository);
    }
  }

  private static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return task -> {
      Thread thread = new Thread(task, prefix + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }

  /** Stops the span engine (and its background fetcher), discovery and the registry client. */
  @Override
  public void close() {
    try {
      engine.close();
    } finally {
      discoveryExecutor.shutdownNow();
      client.close();
    }
  }
}
