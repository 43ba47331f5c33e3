package dev.jsoci.snapshotter;

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
import dev.jsoci.fs.LowerLayers;
import dev.jsoci.fs.fuse.MountOptions;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.Platform;
import dev.jsoci.oci.SociIndex;
import dev.jsoci.snapshotter.lazy.ImageManifests;
import dev.jsoci.snapshotter.lazy.LazyLayers;
import dev.jsoci.testing.LocalRegistry;
import dev.jsoci.testing.RandomLayer;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocCodec;
import dev.jsoci.ztoc.ZtocFormatException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Serves zTOCs whose sizes, offsets or span counts do not fit their layer from a real registry
 * (Debian's docker-registry on loopback). Reading one must be a clear error that names the zTOC.
 * The mounter must report it as a missing index, so that the snapshotter lets containerd pull the
 * layer. Skipped when docker-registry is not installed.
 */
class CorruptZtocTest {
  private static final RandomLayer LAYER = RandomLayer.gzip(5, 40, 20_000);

  private static LocalRegistry registry;
  private static RegistryClient client;
  private static SpanEngine engine;
  private static ExecutorService executor;
  private static LazyLayers layers;
  private static ImageRef image;
  private static Descriptor layer;
  private static Digest manifest;
  private static final AtomicInteger indexes = new AtomicInteger();

  @TempDir static Path spans;

  @BeforeAll
  static void pushImage() throws IOException {
    assumeTrue(LocalRegistry.isInstalled(), "needs /usr/bin/docker-registry");
    registry = LocalRegistry.start(null);
    client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(null)
                .credentials(CredentialStore.ANONYMOUS)
                .build());
    engine = SpanEngine.start(SpanOptions.builder().backgroundFetch(false).build());
    executor = Executors.newFixedThreadPool(2);
    layers =
        new LazyLayers(
            client,
            engine,
            new SociIndexDiscovery(IndexRegistry.of(client), DiscoveryOptions.defaults(), executor),
            FileSystemOptions.defaults(),
            fsname -> MountOptions.builder(fsname).build(),
            new ImageManifests(client, Platform.of("linux", "amd64")),
            PrefetchConfig.DEFAULTS);

    image = ImageRef.parse(registry.host() + "/corrupt/app:1");
    layer = push(MediaType.OCI_LAYER_TAR_GZIP, LAYER.blob());
    Descriptor config = push(MediaType.OCI_CONFIG, "{}".getBytes(StandardCharsets.UTF_8));
    manifest =
        client.pushManifest(
            image,
            new ImageManifest(MediaType.OCI_MANIFEST, "", config, List.of(layer), null, Map.of()));
  }

  @AfterAll
  static void stop() throws IOException {
    if (layers != null) {
      layers.close();
    }
    if (engine != null) {
      engine.close();
    }
    if (executor != null) {
      executor.shutdownNow();
    }
    if (client != null) {
      client.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  private static Descriptor push(String mediaType, byte[] content) throws IOException {
    return client.pushBlob(image, mediaType, new ByteArrayInputStream(content));
  }

  /**
   * Pushes {@code ztoc} and a SOCI index whose descriptor lists it for the layer with the size
   * {@code claimedSize}, and returns the index digest.
   */
  private static Digest pushIndex(byte[] ztoc, long claimedSize) throws IOException {
    Descriptor pushed = push(MediaType.SOCI_ZTOC, ztoc);
    Descriptor descriptor =
        SociIndex.ztocDescriptor(pushed.digest(), claimedSize, layer, RandomLayer.SPAN_SIZE, false);
    SociIndex index = SociIndex.of(SociIndex.Version.V2, List.of(descriptor), null, Map.of());
    ImageRef target =
        ImageRef.parse(registry.host() + "/corrupt/app:index-" + indexes.incrementAndGet());
    return client.pushManifest(target, index.manifest());
  }

  private static Ztoc copy(
      Ztoc ztoc,
      long compressedSize,
      long uncompressedSize,
      List<TocEntry> entries,
      int maxSpanId,
      List<String> spanDigests) {
    return new Ztoc(
        ztoc.version(),
        ztoc.buildToolIdentifier(),
        compressedSize,
        uncompressedSize,
        entries,
        ztoc.compressionAlgorithm(),
        maxSpanId,
        spanDigests,
        ztoc.checkpoints());
  }

  private static Ztoc withEntries(UnaryOperator<List<TocEntry>> change) {
    Ztoc ztoc = LAYER.ztoc();
    List<TocEntry> entries = change.apply(new ArrayList<>(ztoc.entries()));
    return copy(
        ztoc,
        ztoc.compressedArchiveSize(),
        ztoc.uncompressedArchiveSize(),
        entries,
        ztoc.maxSpanId(),
        ztoc.spanDigests());
  }

  /** Returns {@code entry} with another data offset and size. */
  private static TocEntry moved(TocEntry entry, long offset, long size) {
    return new TocEntry(
        entry.name(),
        entry.type(),
        offset,
        size,
        entry.linkname(),
        entry.mode(),
        entry.uid(),
        entry.gid(),
        entry.uname(),
        entry.gname(),
        entry.modTime(),
        entry.devmajor(),
        entry.devminor(),
        entry.paxRecords());
  }

  private static List<TocEntry> withLast(List<TocEntry> entries, long offset, long size) {
    int last = entries.size() - 1;
    entries.set(last, moved(entries.get(last), offset, size));
    return entries;
  }

  /** A corrupt zTOC and a part of the message that reading it must give. */
  private record Case(String name, byte[] bytes, String expected) {}

  private static List<Case> cases() {
    Ztoc ztoc = LAYER.ztoc();
    long uncompressed = ztoc.uncompressedArchiveSize();
    long lastOffset = ztoc.entries().get(ztoc.entries().size() - 1).uncompressedOffset();
    List<String> oneDigestMore = new ArrayList<>(ztoc.spanDigests());
    oneDigestMore.add(oneDigestMore.get(0));
    return List.of(
        new Case(
            "file ends past the layer",
            ZtocCodec.encode(withEntries(entries -> withLast(entries, lastOffset, uncompressed))),
            "ends past the uncompressed archive size of " + uncompressed + " bytes"),
        new Case(
            "offset plus size overflows",
            ZtocCodec.encode(withEntries(entries -> withLast(entries, Long.MAX_VALUE - 10, 1000))),
            "ends past the uncompressed archive size"),
        new Case(
            "negative size",
            ZtocCodec.encode(withEntries(entries -> withLast(entries, lastOffset, -1))),
            "with size -1"),
        new Case(
            "checkpoints beyond the compressed size",
            ZtocCodec.encode(
                copy(
                    ztoc, 100, uncompressed, ztoc.entries(), ztoc.maxSpanId(), ztoc.spanDigests())),
            "invalid ztoc"),
        new Case(
            "span count disagrees with checkpoints",
            ZtocCodec.encode(
                copy(
                    ztoc,
                    ztoc.compressedArchiveSize(),
                    uncompressed,
                    ztoc.entries(),
                    ztoc.maxSpanId() + 1,
                    oneDigestMore)),
            "max_span_id is " + (ztoc.maxSpanId() + 1)),
        new Case(
            "span digests missing",
            ZtocCodec.encode(
                copy(
                    ztoc,
                    ztoc.compressedArchiveSize(),
                    uncompressed,
                    ztoc.entries(),
                    ztoc.maxSpanId(),
                    ztoc.spanDigests().subList(1, ztoc.spanDigests().size()))),
            "span digests for " + (ztoc.maxSpanId() + 1) + " spans"),
        new Case(
            "negative archive size",
            ZtocCodec.encode(
                copy(ztoc, -1, -1, ztoc.entries(), ztoc.maxSpanId(), ztoc.spanDigests())),
            "invalid ztoc"),
        new Case(
            "not a flatbuffer",
            "not a ztoc at all, just text".getBytes(StandardCharsets.UTF_8),
            "invalid ztoc"));
  }

  @Test
  void validZtoc_isFound() throws IOException {
    byte[] bytes = ZtocCodec.encode(LAYER.ztoc());
    Digest index = pushIndex(bytes, bytes.length);

    LazyLayers.Lookup lookup = layers.lookup(image, manifest, index, layer.digest());

    assertThat(lookup.indexFound()).isTrue();
    assertThat(lookup.layer()).isPresent();
  }

  @Test
  void corruptZtocs_failLookupWithReason() throws IOException {
    for (Case corrupt : cases()) {
      Digest index = pushIndex(corrupt.bytes(), corrupt.bytes().length);

      ZtocFormatException e =
          assertThrows(
              ZtocFormatException.class,
              () -> layers.lookup(image, manifest, index, layer.digest()),
              corrupt.name());

      assertWithMessage(corrupt.name()).that(e).hasMessageThat().contains(corrupt.expected());
      assertWithMessage(corrupt.name())
          .that(e)
          .hasMessageThat()
          .contains(Digest.sha256Of(corrupt.bytes()).toString());
    }
  }

  @Test
  void hugeZtocDescriptor_rejectedBeforeRead() throws IOException {
    byte[] bytes = ZtocCodec.encode(LAYER.ztoc());
    Digest index = pushIndex(bytes, 1L << 40);

    ZtocFormatException e =
        assertThrows(
            ZtocFormatException.class, () -> layers.lookup(image, manifest, index, layer.digest()));

    assertThat(e)
        .hasMessageThat()
        .contains("gives a size of 1099511627776 bytes, more than the limit of 268435456");
  }

  @Test
  void corruptZtoc_mounterReportsNoIndex() throws IOException {
    Case corrupt = cases().get(0);
    Digest index = pushIndex(corrupt.bytes(), corrupt.bytes().length);
    FuseLayerMounter mounter =
        new FuseLayerMounter(
            layers,
            (repository, digest) -> {},
            Duration.ofMinutes(1),
            Duration.ofSeconds(5),
            Clock.systemUTC());
    RemoteLayerRequest request =
        new RemoteLayerRequest(
            "default",
            image,
            Optional.of(manifest),
            layer.digest(),
            OptionalLong.of(layer.size()),
            Optional.of(index),
            List.of(layer.digest()),
            List.of(layer.size()),
            Map.of());

    NoSociIndexException e =
        assertThrows(
            NoSociIndexException.class,
            () -> mounter.mount(request, spans.resolve("mnt"), LowerLayers.NONE));

    assertThat(e).hasMessageThat().contains(corrupt.expected());
  }
}
