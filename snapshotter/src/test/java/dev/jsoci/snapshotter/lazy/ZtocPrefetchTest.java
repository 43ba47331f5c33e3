package dev.jsoci.snapshotter.lazy;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.config.PrefetchConfig;
import dev.jsoci.fetcher.discovery.DiscoveryOptions;
import dev.jsoci.fetcher.discovery.IndexRegistry;
import dev.jsoci.fetcher.discovery.SociIndexDiscovery;
import dev.jsoci.fetcher.registry.CredentialStore;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fetcher.span.SpanEngine;
import dev.jsoci.fetcher.span.SpanOptions;
import dev.jsoci.fs.FileSystemOptions;
import dev.jsoci.fs.fuse.MountOptions;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.Platform;
import dev.jsoci.oci.SociIndex;
import dev.jsoci.testing.LocalRegistry;
import dev.jsoci.testing.RandomLayer;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocCodec;
import dev.jsoci.ztoc.ZtocFormatException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Looks up the layers of images on a real registry (Debian's docker-registry on loopback) through a
 * MockWebServer that forwards each request to it and records the request targets, so that the tests
 * count the zTOC reads. Skipped when docker-registry is not installed.
 */
class ZtocPrefetchTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  private static LocalRegistry registry;
  private static MockWebServer proxy;
  private static OkHttpClient forwarder;
  private static RegistryClient pushClient;
  private static RegistryClient lazyClient;
  private static SpanEngine engine;
  private static ExecutorService discoveryExecutor;
  private static final List<String> targets = new CopyOnWriteArrayList<>();
  private static final AtomicInteger repositories = new AtomicInteger();

  /** When set, GET requests of these blobs wait for {@link #release} before they are forwarded. */
  private static volatile Set<String> heldBlobs = Set.of();

  private static volatile CountDownLatch release = new CountDownLatch(0);

  private ImageManifests manifests;
  private LazyLayers layers;

  /** An image pushed to the registry, named through the proxy. */
  private record TestImage(
      ImageRef viaProxy,
      Digest manifest,
      Digest index,
      List<Descriptor> layers,
      List<Digest> ztocs) {}

  @BeforeAll
  static void start() throws IOException {
    assumeTrue(LocalRegistry.isInstalled(), "needs /usr/bin/docker-registry");
    registry = LocalRegistry.start(null);
    forwarder = new OkHttpClient.Builder().followRedirects(true).build();
    proxy = new MockWebServer();
    proxy.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            return forward(request);
          }
        });
    proxy.start(InetAddress.getLoopbackAddress(), 0);

    RegistryOptions options =
        RegistryOptions.builder()
            .hostsDirectory(null)
            .credentials(CredentialStore.ANONYMOUS)
            .build();
    pushClient = RegistryClient.create(options);
    lazyClient = RegistryClient.create(options);
    engine = SpanEngine.start(SpanOptions.builder().backgroundFetch(false).build());
    discoveryExecutor = Executors.newFixedThreadPool(2);
  }

  @AfterAll
  static void stop() throws IOException {
    if (engine != null) {
      engine.close();
    }
    if (discoveryExecutor != null) {
      discoveryExecutor.shutdownNow();
    }
    if (lazyClient != null) {
      lazyClient.close();
    }
    if (pushClient != null) {
      pushClient.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  @BeforeEach
  void createLayers() {
    manifests = new ImageManifests(lazyClient, Platform.of("linux", "amd64"));
    layers =
        new LazyLayers(
            lazyClient,
            engine,
            new SociIndexDiscovery(
                IndexRegistry.of(lazyClient), DiscoveryOptions.defaults(), discoveryExecutor),
            FileSystemOptions.defaults(),
            fsname -> MountOptions.builder(fsname).build(),
            manifests,
            PrefetchConfig.DEFAULTS);
  }

  @AfterEach
  void closeLayers() {
    release.countDown();
    heldBlobs = Set.of();
    if (layers != null) {
      layers.close();
    }
  }

  /** Forwards a GET or HEAD to the registry, after waiting for {@link #release} if it is held. */
  private static MockResponse forward(RecordedRequest request) throws InterruptedException {
    String target = request.getTarget();
    targets.add(request.getMethod() + " " + target);
    String blob = target.substring(target.lastIndexOf('/') + 1);
    if (request.getMethod().equals("GET") && heldBlobs.contains(blob)) {
      if (!release.await(WAIT.toSeconds(), TimeUnit.SECONDS)) {
        return new MockResponse.Builder().code(503).body("held too long").build();
      }
    }

    Request.Builder forwarded =
        new Request.Builder().url(registry.url() + target).method(request.getMethod(), null);
    for (String name : List.of("Accept", "Range")) {
      for (String value : request.getHeaders().values(name)) {
        forwarded.addHeader(name, value);
      }
    }
    try (Response response = forwarder.newCall(forwarded.build()).execute()) {
      Headers headers =
          response
              .headers()
              .newBuilder()
              .removeAll("Content-Length")
              .removeAll("Transfer-Encoding")
              .build();
      ResponseBody body = response.body();
      MockResponse.Builder builder =
          new MockResponse.Builder().code(response.code()).headers(headers);
      if (!request.getMethod().equals("HEAD")) {
        builder.body(new okio.Buffer().write(body.bytes()));
      } else {
        builder.setHeader("Content-Length", response.header("Content-Length", "0"));
      }
      return builder.build();
    } catch (IOException e) {
      return new MockResponse.Builder().code(502).body(e.toString()).build();
    }
  }

  /**
   * Pushes an image of {@code layerCount} gzip layers and a SOCI index with a zTOC for each; the
   * zTOCs of the layers in {@code corrupt} are text instead.
   */
  private static TestImage pushImage(int layerCount, Set<Integer> corrupt) throws IOException {
    return pushImage(layerCount, corrupt, Set.of());
  }

  /** Pushes an image as above, whose SOCI index has no zTOC for the layers in {@code unindexed}. */
  private static TestImage pushImage(int layerCount, Set<Integer> corrupt, Set<Integer> unindexed)
      throws IOException {
    String repository = "prefetch/app" + repositories.incrementAndGet();
    ImageRef direct = ImageRef.parse(registry.host() + "/" + repository + ":1");
    List<Descriptor> layerDescriptors = new ArrayList<>();
    List<Descriptor> ztocDescriptors = new ArrayList<>();
    List<Digest> ztocDigests = new ArrayList<>();
    for (int i = 0; i < layerCount; i++) {
      RandomLayer random = RandomLayer.gzip(1000L * repositories.get() + i, 4, 20_000);
      Descriptor layer = push(direct, MediaType.OCI_LAYER_TAR_GZIP, random.blob());
      layerDescriptors.add(layer);
      if (unindexed.contains(i)) {
        continue;
      }
      byte[] ztoc =
          corrupt.contains(i)
              ? ("not a ztoc, layer " + i).getBytes(StandardCharsets.UTF_8)
              : ZtocCodec.encode(random.ztoc());
      Descriptor pushedZtoc = push(direct, MediaType.SOCI_ZTOC, ztoc);
      ztocDigests.add(pushedZtoc.digest());
      ztocDescriptors.add(
          SociIndex.ztocDescriptor(
              pushedZtoc.digest(), ztoc.length, layer, RandomLayer.SPAN_SIZE, false));
    }
    Descriptor config = push(direct, MediaType.OCI_CONFIG, "{}".getBytes(StandardCharsets.UTF_8));
    Digest manifest =
        pushClient.pushManifest(
            direct,
            new ImageManifest(
                MediaType.OCI_MANIFEST, "", config, layerDescriptors, null, Map.of()));
    SociIndex index = SociIndex.of(SociIndex.Version.V2, ztocDescriptors, null, Map.of());
    Digest indexDigest =
        pushClient.pushManifest(
            ImageRef.parse(registry.host() + "/" + repository + ":index"), index.manifest());
    ImageRef viaProxy = ImageRef.parse("127.0.0.1:" + proxy.getPort() + "/" + repository + ":1");
    return new TestImage(viaProxy, manifest, indexDigest, layerDescriptors, ztocDigests);
  }

  private static Descriptor push(ImageRef image, String mediaType, byte[] content)
      throws IOException {
    return pushClient.pushBlob(image, mediaType, new ByteArrayInputStream(content));
  }

  private LazyLayers.Lookup lookup(TestImage image, int layer) throws IOException {
    return layers.lookup(
        image.viaProxy(), image.manifest(), image.index(), image.layers().get(layer).digest());
  }

  /** Returns the number of GET requests of the blob {@code digest} that the proxy received. */
  private static long blobReads(Digest digest) {
    return targets.stream()
        .filter(line -> line.startsWith("GET /v2/") && line.endsWith("/blobs/" + digest))
        .count();
  }

  private static long blobReads(List<Digest> digests) {
    return digests.stream().mapToLong(ZtocPrefetchTest::blobReads).sum();
  }

  /**
   * Waits, up to {@link #WAIT}, until {@code condition} holds, and fails the test if it never does.
   */
  private static void waitUntil(String what, Supplier<Boolean> condition)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.get()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out after " + WAIT.toSeconds() + " s waiting until " + what);
      }
      Thread.sleep(10);
    }
  }

  @Test
  void laterLayers_needNoZtocRequest() throws Exception {
    TestImage image = pushImage(4, Set.of());

    assertThat(lookup(image, 0).layer()).isPresent();
    waitUntil("every zTOC was requested", () -> blobReads(image.ztocs()) >= 4);
    for (int layer = 1; layer < 4; layer++) {
      Optional<LazyLayer> found = lookup(image, layer).layer();

      assertWithMessage("layer %s", layer).that(found).isPresent();
      assertWithMessage("layer %s", layer)
          .that(found.get().layer().digest())
          .isEqualTo(image.layers().get(layer).digest());
    }

    for (Digest ztoc : image.ztocs()) {
      assertWithMessage("GET requests of zTOC %s", ztoc).that(blobReads(ztoc)).isEqualTo(1);
    }
  }

  @Test
  void layerWithoutZtoc_startsPrefetchOfOthers() throws Exception {
    TestImage image = pushImage(3, Set.of(), Set.of(0));

    LazyLayers.Lookup first = lookup(image, 0);

    assertThat(first.indexFound()).isTrue();
    assertThat(first.layer()).isEmpty();
    waitUntil("both zTOCs were requested", () -> blobReads(image.ztocs()) >= 2);
    for (int layer = 1; layer < 3; layer++) {
      assertWithMessage("layer %s", layer).that(lookup(image, layer).layer()).isPresent();
    }
    for (Digest ztoc : image.ztocs()) {
      assertWithMessage("GET requests of zTOC %s", ztoc).that(blobReads(ztoc)).isEqualTo(1);
    }
  }

  @Test
  void layersOfOneTag_resolveItOnce() throws Exception {
    TestImage image = pushImage(3, Set.of());

    for (int layer = 0; layer < 3; layer++) {
      LazyLayers.Lookup found =
          layers.lookup(image.viaProxy(), null, image.index(), image.layers().get(layer).digest());
      assertWithMessage("layer %s", layer).that(found.layer()).isPresent();
    }

    assertThat(tagRequests(image.viaProxy())).isEqualTo(1);
    assertThat(digestRequests(image.viaProxy(), image.manifest())).isEqualTo(0);
  }

  @Test
  void manifestsAfterLookup_needNoRequest() throws Exception {
    TestImage image = pushImage(2, Set.of(), Set.of(0));
    layers.lookup(image.viaProxy(), null, image.index(), image.layers().get(0).digest());
    long manifestRequestsBefore = manifestRequests();

    ImageManifests.ManifestWithLayer found =
        manifests.forLayer(image.viaProxy(), null, image.layers().get(1).digest());

    assertThat(found.digest()).isEqualTo(image.manifest());
    assertThat(found.layer()).isEqualTo(image.layers().get(1));
    assertThat(found.manifest().layers()).isEqualTo(image.layers());
    assertThat(manifestRequests()).isEqualTo(manifestRequestsBefore);
  }

  @Test
  void manifestWithoutLayer_failsNamingLayerAndManifest() throws Exception {
    TestImage image = pushImage(1, Set.of());
    Digest missing = Digest.sha256Of(new byte[] {1, 2, 3});

    IOException e =
        assertThrows(IOException.class, () -> manifests.forLayer(image.viaProxy(), null, missing));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer "
                + missing
                + " is not in manifest "
                + image.manifest()
                + " of "
                + image.viaProxy());
  }

  @Test
  void movedTag_resolvedAgain() throws Exception {
    TestImage first = pushImage(1, Set.of());
    assertThat(
            layers
                .lookup(first.viaProxy(), null, first.index(), first.layers().get(0).digest())
                .layer())
        .isPresent();

    // Point the tag at a manifest with another layer, as a push of a new version does.
    ImageRef direct = ImageRef.parse(registry.host() + "/" + first.viaProxy().repository() + ":1");
    Descriptor newLayer =
        push(direct, MediaType.OCI_LAYER_TAR_GZIP, RandomLayer.gzip(77, 4, 20_000).blob());
    Descriptor config = push(direct, MediaType.OCI_CONFIG, "{}".getBytes(StandardCharsets.UTF_8));
    pushClient.pushManifest(
        direct,
        new ImageManifest(MediaType.OCI_MANIFEST, "", config, List.of(newLayer), null, Map.of()));

    LazyLayers.Lookup moved =
        layers.lookup(first.viaProxy(), null, first.index(), newLayer.digest());

    assertThat(moved.indexFound()).isTrue();
    assertThat(moved.layer()).isEmpty();
    assertThat(tagRequests(first.viaProxy())).isEqualTo(2);
  }

  /**
   * Returns the number of requests for the manifest {@code digest} of {@code image}'s repository.
   */
  private static long digestRequests(ImageRef image, Digest digest) {
    String target = "/v2/" + image.repository() + "/manifests/" + digest;
    return targets.stream().filter(line -> line.endsWith(" " + target)).count();
  }

  /** Returns the number of manifest requests of every test so far. */
  private static long manifestRequests() {
    return targets.stream().filter(line -> line.contains("/manifests/")).count();
  }

  /** Returns the number of requests for the manifest of {@code image}'s tag. */
  private static long tagRequests(ImageRef image) {
    String target = "/v2/" + image.repository() + "/manifests/" + image.tag();
    return targets.stream().filter(line -> line.endsWith(" " + target)).count();
  }

  @Test
  void concurrentLookups_fetchZtocOnce() throws Exception {
    TestImage image = pushImage(1, Set.of());
    int threads = 8;
    ExecutorService lookups = Executors.newFixedThreadPool(threads);
    CountDownLatch startTogether = new CountDownLatch(1);
    List<Future<LazyLayers.Lookup>> results = new ArrayList<>();
    try {
      for (int i = 0; i < threads; i++) {
        results.add(
            lookups.submit(
                () -> {
                  startTogether.await();
                  return lookup(image, 0);
                }));
      }
      startTogether.countDown();

      List<Ztoc> ztocs = new ArrayList<>();
      for (Future<LazyLayers.Lookup> result : results) {
        Optional<LazyLayer> found = result.get(WAIT.toSeconds(), TimeUnit.SECONDS).layer();
        assertThat(found).isPresent();
        ztocs.add(found.get().ztoc());
      }

      assertThat(blobReads(image.ztocs().get(0))).isEqualTo(1);
      for (Ztoc ztoc : ztocs) {
        assertThat(ztoc).isSameInstanceAs(ztocs.get(0));
      }
    } finally {
      lookups.shutdownNow();
    }
  }

  @Test
  void corruptZtoc_failsOnlyItsLayer() throws Exception {
    TestImage image = pushImage(3, Set.of(1));

    assertThat(lookup(image, 0).layer()).isPresent();
    waitUntil("every zTOC was requested", () -> blobReads(image.ztocs()) >= 3);

    ZtocFormatException e = assertThrows(ZtocFormatException.class, () -> lookup(image, 1));
    assertThat(e).hasMessageThat().contains("invalid ztoc");
    assertThat(e).hasMessageThat().contains(image.ztocs().get(1).toString());
    assertThat(lookup(image, 2).layer()).isPresent();
    assertThat(blobReads(image.ztocs().get(2))).isEqualTo(1);
  }

  @Test
  void close_stopsPrefetch() throws Exception {
    int layerCount = 2 + ZtocPrefetcher.THREADS * 2;
    TestImage image = pushImage(layerCount, Set.of());
    // The first layer's own zTOC is not held, because the prefetch starts after it is read.
    Set<String> held = new HashSet<>();
    for (Digest ztoc : image.ztocs().subList(1, layerCount)) {
      held.add(ztoc.toString());
    }
    release = new CountDownLatch(1);
    heldBlobs = Set.copyOf(held);
    ExecutorService first = Executors.newSingleThreadExecutor();
    try {
      Future<LazyLayers.Lookup> firstLookup = first.submit(() -> lookup(image, 0));
      // The lookup reads its own zTOC, then each prefetch thread starts one more read.
      int inFlight = 1 + ZtocPrefetcher.THREADS;
      waitUntil(inFlight + " zTOC requests are held", () -> blobReads(image.ztocs()) >= inFlight);

      layers.close();
      release.countDown();

      assertThat(layers.awaitPrefetchStopped(WAIT)).isTrue();
      assertThat(firstLookup.get(WAIT.toSeconds(), TimeUnit.SECONDS).layer()).isPresent();
      assertThat(blobReads(image.ztocs())).isEqualTo(inFlight);
    } finally {
      first.shutdownNow();
    }
  }
}
