package dev.jsoci.snapshotter;

import dev.jsoci.config.JsociConfig;
import dev.jsoci.convert.ConvertOptions;
import dev.jsoci.fetcher.discovery.IndexRegistry;
import dev.jsoci.fetcher.discovery.SociIndexDiscovery;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryListener;
import dev.jsoci.fetcher.span.SpanEngine;
import dev.jsoci.fetcher.span.SpanListener;
import dev.jsoci.fs.FileSystemListener;
import dev.jsoci.fs.OpaqueXattr;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.snapshotter.lazy.ImageManifests;
import dev.jsoci.snapshotter.lazy.LazyLayers;
import dev.jsoci.snapshotter.lazy.LazyOptions;
import dev.jsoci.snapshotter.metrics.DaemonMetrics;
import dev.jsoci.snapshotter.unpack.LayerUnpacker;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The parts of the daemon that pull layers lazily: the registry client, the span engine, SOCI index
 * discovery, the {@link FuseLayerMounter} built on them and the {@link RegistryLayerUnpacker} for
 * layers without a zTOC, configured from {@code config.toml}.
 *
 * <p>Warning: close it after the snapshotter, which unmounts the layers first; closing it stops the
 * background fetcher and the registry client.
 */
final class LazyPulling implements AutoCloseable {
  /** Threads that fetch the zTOCs of an index in parallel during discovery. */
  private static final int DISCOVERY_THREADS = 4;

  private static final Duration UNMOUNT_TIMEOUT = Duration.ofSeconds(30);

  /** How long an idle read thread waits for the next read before it ends. */
  private static final Duration READ_THREAD_KEEP_ALIVE = Duration.ofSeconds(10);

  private final RegistryClient client;
  private final SpanEngine engine;
  private final ExecutorService discoveryExecutor;
  private final LazyLayers layers;
  private final ExecutorService readExecutor;
  private final FuseLayerMounter mounter;
  private final RegistryLayerUnpacker localUnpacker;

  private LazyPulling(
      RegistryClient client,
      SpanEngine engine,
      ExecutorService discoveryExecutor,
      LazyLayers layers,
      ExecutorService readExecutor,
      FuseLayerMounter mounter,
      RegistryLayerUnpacker localUnpacker) {
    this.client = client;
    this.engine = engine;
    this.discoveryExecutor = discoveryExecutor;
    this.layers = layers;
    this.readExecutor = readExecutor;
    this.mounter = mounter;
    this.localUnpacker = localUnpacker;
  }

  /**
   * Starts the registry client and the span engine; the disk span cache lives in {@code
   * <root>/spans} unless {@code filesystem_cache_type = "memory"}.
   *
   * @throws IOException if the disk span cache cannot be opened
   */
  static LazyPulling start(JsociConfig config, Path root) throws IOException {
    return start(config, root, null);
  }

  /**
   * Starts like {@link #start(JsociConfig, Path)}, with the registry client, the span engine and
   * every layer's file system reporting to {@code metrics} when it is not null.
   *
   * @throws IOException if the disk span cache cannot be opened
   */
  static LazyPulling start(JsociConfig config, Path root, @Nullable DaemonMetrics metrics)
      throws IOException {
    RegistryListener registryListener =
        metrics == null ? RegistryListener.NONE : metrics.registryListener();
    SpanListener spanListener = metrics == null ? SpanListener.NONE : metrics.spanListener();
    FileSystemListener fileSystemListener =
        metrics == null ? FileSystemListener.NONE : metrics.fileSystemListener();

    RegistryClient client =
        RegistryClient.create(
            LazyOptions.registryOptions(config)
                .userAgent("jsoci-snapshotter")
                .listener(registryListener)
                .build());
    SpanEngine engine;
    try {
      engine =
          SpanEngine.start(LazyOptions.spanOptions(config, root.resolve("spans")), spanListener);
    } catch (IOException | RuntimeException e) {
      client.close();
      throw e;
    }
    if (metrics != null) {
      metrics.watch(engine);
    }
    ExecutorService discoveryExecutor =
        Executors.newFixedThreadPool(DISCOVERY_THREADS, DaemonThreads.numbered("jsoci-discovery-"));
    SociIndexDiscovery discovery =
        new SociIndexDiscovery(
            IndexRegistry.of(client), LazyOptions.discoveryOptions(config), discoveryExecutor);
    // Every mount reads through one pool, so the daemon keeps about as many read threads as reads
    // in flight. With a pool per mount, each of 50 mounts kept its own idle threads.
    ExecutorService readExecutor =
        new ThreadPoolExecutor(
            0,
            Integer.MAX_VALUE,
            READ_THREAD_KEEP_ALIVE.toSeconds(),
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            DaemonThreads.numbered("jsoci-fs-read-"));
    ImageManifests manifests = new ImageManifests(client, ConvertOptions.detectHostPlatform());
    LazyLayers layers =
        new LazyLayers(
            client,
            engine,
            discovery,
            LazyOptions.fileSystemOptions(config).toBuilder()
                .listener(fileSystemListener)
                .readExecutor(readExecutor)
                .build(),
            fsname -> LazyOptions.mountOptions(config, fsname),
            manifests,
            config.prefetch());
    FuseLayerMounter mounter =
        new FuseLayerMounter(
            layers,
            (repository, layer) -> probeBlob(client, repository, layer),
            config.blob().validInterval(),
            UNMOUNT_TIMEOUT,
            Clock.systemUTC());
    // The unpacked layer becomes an overlayfs lower directory, so opaque directories get the
    // xattr that the snapshotter's overlay mounts read.
    OpaqueXattr opaqueXattr =
        OverlayOptions.detect().userXattr() ? OpaqueXattr.USER : OpaqueXattr.TRUSTED;
    RegistryLayerUnpacker localUnpacker =
        new RegistryLayerUnpacker(client, LayerUnpacker.forCurrentUser(opaqueXattr), manifests);
    return new LazyPulling(
        client, engine, discoveryExecutor, layers, readExecutor, mounter, localUnpacker);
  }

  RemoteLayerMounter mounter() {
    return mounter;
  }

  LocalLayerUnpacker localUnpacker() {
    return localUnpacker;
  }

  /** Sends a {@code HEAD} for the blob; a 404 means the layer can no longer be read. */
  private static void probeBlob(RegistryClient client, ImageRef repository, Digest layer)
      throws IOException {
    OptionalLong size = client.findBlobSize(repository, layer);
    if (size.isEmpty()) {
      throw new IOException("the registry no longer has blob " + layer + " of " + repository);
    }
  }

  /**
   * Stops the span engine (and its background fetcher), the zTOC prefetch, discovery, the read
   * threads and the registry client.
   */
  @Override
  public void close() {
    try {
      engine.close();
    } finally {
      layers.close();
      discoveryExecutor.shutdownNow();
      readExecutor.shutdownNow();
      client.close();
    }
  }
}
