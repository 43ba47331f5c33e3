package dev.jsoci.snapshotter.lazy;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.fetcher.registry.CredentialStore;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fetcher.span.RegistryBlobRangeSource;
import dev.jsoci.fetcher.span.SpanEngine;
import dev.jsoci.fetcher.span.SpanManager;
import dev.jsoci.fetcher.span.SpanOptions;
import dev.jsoci.fetcher.span.SpanState;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.OciFormatException;
import dev.jsoci.oci.PrefetchArtifact;
import dev.jsoci.oci.PrefetchArtifact.SpanRange;
import dev.jsoci.testing.LocalRegistry;
import dev.jsoci.testing.RandomLayer;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Prefetches the spans that artifacts list from a real registry (Debian's docker-registry on
 * loopback), with nothing reading the layer. Skipped when docker-registry is not installed.
 */
class ArtifactPrefetcherTest {
  private static final RandomLayer LAYER = RandomLayer.gzip(11, 60, 20_000);

  private static LocalRegistry registry;
  private static RegistryClient client;
  private static ImageRef image;
  private static Descriptor layer;

  private SpanEngine engine;
  private SpanManager spans;
  private ArtifactPrefetcher prefetcher;

  @BeforeAll
  static void pushLayer() throws IOException {
    assumeTrue(LocalRegistry.isInstalled(), "needs /usr/bin/docker-registry");
    registry = LocalRegistry.start(null);
    client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(null)
                .credentials(CredentialStore.ANONYMOUS)
                .build());
    image = ImageRef.parse(registry.host() + "/prefetch/app:1");
    layer = push(MediaType.OCI_LAYER_TAR_GZIP, LAYER.blob());
  }

  @AfterAll
  static void stopRegistry() {
    if (client != null) {
      client.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  @BeforeEach
  void openLayer() throws IOException {
    engine = SpanEngine.start(SpanOptions.builder().backgroundFetch(false).build());
    spans =
        engine.openLayer(
            layer.digest(), LAYER.ztoc(), RegistryBlobRangeSource.of(client, image, layer));
    prefetcher = new ArtifactPrefetcher(client, 1, new ZtocReads());
  }

  @AfterEach
  void close() {
    prefetcher.close();
    spans.close();
    engine.close();
  }

  private static Descriptor push(String mediaType, byte[] content) throws IOException {
    return client.pushBlob(image, mediaType, new ByteArrayInputStream(content));
  }

  private static Descriptor pushArtifact(byte[] json) throws IOException {
    return push(MediaType.SOCI_PREFETCH, json);
  }

  private static void await(CompletableFuture<Void> prefetch) throws Exception {
    prefetch.get(30, TimeUnit.SECONDS);
  }

  @Test
  void start_fetchesExactlyTheListedSpans() throws Exception {
    assertThat(LAYER.spanCount()).isAtLeast(6);
    PrefetchArtifact artifact =
        new PrefetchArtifact(List.of(SpanRange.of(1, 2), SpanRange.of(4, 4)));

    await(prefetcher.start(image, pushArtifact(artifact.toBytes()), spans));

    for (int id = 0; id < LAYER.spanCount(); id++) {
      boolean listed = id == 1 || id == 2 || id == 4;
      assertThat(spans.state(id)).isEqualTo(listed ? SpanState.READY : SpanState.NOT_REQUESTED);
    }
    assertThat(spans.statistics().spansFetched()).isEqualTo(3);
  }

  @Test
  void start_rangeBeyondLayer_isCut() throws Exception {
    int last = LAYER.spanCount() - 1;
    PrefetchArtifact artifact =
        new PrefetchArtifact(
            List.of(SpanRange.of(last, last + 5), SpanRange.of(last + 10, last + 20)));

    await(prefetcher.start(image, pushArtifact(artifact.toBytes()), spans));

    assertThat(spans.state(last)).isEqualTo(SpanState.READY);
    assertThat(spans.statistics().spansFetched()).isEqualTo(1);
  }

  @Test
  void start_invalidArtifact_failsWithoutFetching() throws IOException {
    Descriptor artifact =
        pushArtifact(
            "{\"version\":\"9.9\",\"prefetch_spans\":[]}".getBytes(StandardCharsets.UTF_8));

    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () -> prefetcher.start(image, artifact, spans).get(30, TimeUnit.SECONDS));

    assertThat(e).hasCauseThat().isInstanceOf(OciFormatException.class);
    assertThat(e).hasCauseThat().hasMessageThat().contains("version \"9.9\"");
    assertThat(spans.statistics().spansFetched()).isEqualTo(0);
  }

  @Test
  void start_closedLayer_failsAndFetchesNothing() throws IOException {
    PrefetchArtifact artifact = new PrefetchArtifact(List.of(SpanRange.of(0, 2)));
    Descriptor pushed = pushArtifact(artifact.toBytes());
    spans.close();

    ExecutionException e =
        assertThrows(
            ExecutionException.class,
            () -> prefetcher.start(image, pushed, spans).get(30, TimeUnit.SECONDS));

    assertThat(e).hasCauseThat().isNotNull();
    assertThat(spans.statistics().spansFetched()).isEqualTo(0);
  }
}
