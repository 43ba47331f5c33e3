package dev.jsoci.fetcher.discovery;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.fetcher.registry.BlobSource;
import dev.jsoci.fetcher.registry.CredentialStore;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.SociAnnotations;
import dev.jsoci.oci.SociIndex;
import dev.jsoci.testing.LocalRegistry;
import dev.jsoci.testing.RandomLayer;
import dev.jsoci.ztoc.ZtocCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Discovery through the registry client against a real Distribution registry. */
class LocalRegistryDiscoveryTest {
  private static final RandomLayer LAYER = RandomLayer.gzip(41, 8, 40_000);
  private static final Descriptor LAYER_DESCRIPTOR =
      Descriptor.of(MediaType.OCI_LAYER_TAR_GZIP, LAYER.digest(), LAYER.blob().length);

  private static LocalRegistry registry;
  private static RegistryClient client;

  @BeforeAll
  static void startRegistry() throws IOException {
    assumeTrue(
        LocalRegistry.isInstalled(),
        "docker-registry is not installed; install the Debian package docker-registry");
    registry = LocalRegistry.start(null);
    client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(null)
                .credentials(CredentialStore.ANONYMOUS)
                .build());
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

  private static ImageRef repository(String name) {
    return ImageRef.parse(registry.host() + "/" + name + ":latest");
  }

  private static SociIndexDiscovery discovery(DiscoveryOptions options) {
    return new SociIndexDiscovery(IndexRegistry.of(client), options, Runnable::run);
  }

  /** Pushes the layer, its config and the zTOC, and returns the zTOC's descriptor. */
  private static Descriptor pushLayerAndZtoc(ImageRef repository) throws IOException {
    client.pushBlob(repository, LAYER_DESCRIPTOR, BlobSource.of(LAYER.blob()));
    byte[] emptyJson = "{}".getBytes(StandardCharsets.UTF_8);
    client.pushBlob(
        repository,
        Descriptor.of(MediaType.OCI_EMPTY_JSON, SociIndex.EMPTY_JSON_DIGEST, emptyJson.length),
        BlobSource.of(emptyJson));
    byte[] ztoc = ZtocCodec.encode(LAYER.ztoc());
    Descriptor ztocBlob = Descriptor.of(MediaType.SOCI_ZTOC, Digest.sha256Of(ztoc), ztoc.length);
    client.pushBlob(repository, ztocBlob, BlobSource.of(ztoc));
    return SociIndex.ztocDescriptor(
        ztocBlob.digest(), ztocBlob.size(), LAYER_DESCRIPTOR, RandomLayer.SPAN_SIZE, false);
  }

  private static Descriptor pushImageManifest(ImageRef repository, Map<String, String> annotations)
      throws IOException {
    Descriptor config = Descriptor.of(MediaType.OCI_EMPTY_JSON, SociIndex.EMPTY_JSON_DIGEST, 2);
    ImageManifest manifest =
        new ImageManifest(
            MediaType.OCI_MANIFEST, "", config, List.of(LAYER_DESCRIPTOR), null, annotations);
    byte[] bytes = manifest.toBytes();
    Digest digest = client.pushManifest(repository, MediaType.OCI_MANIFEST, bytes);
    return Descriptor.of(MediaType.OCI_MANIFEST, digest, bytes.length);
  }

  @Test
  void discover_v2Annotation_fetchesIndexAndZtoc() throws IOException {
    ImageRef repository = repository("v2/app");
    Descriptor ztoc = pushLayerAndZtoc(repository);
    SociIndex index = SociIndex.builder(SociIndex.Version.V2).addZtoc(ztoc).build();
    Digest indexDigest =
        client.pushManifest(
            ImageRef.parse(registry.host() + "/v2/app:soci"),
            MediaType.OCI_MANIFEST,
            index.toBytes());
    Descriptor manifest =
        pushImageManifest(repository, Map.of(SociAnnotations.INDEX_DIGEST, indexDigest.toString()));
    SociIndexDiscovery discovery = discovery(DiscoveryOptions.defaults());

    Optional<DiscoveredIndex> found = discovery.discover(repository, manifest.digest(), null);
    SociArtifacts artifacts = discovery.fetchArtifacts(repository, found.orElseThrow());

    assertThat(found).hasValue(new DiscoveredIndex(indexDigest, IndexSource.V2_ANNOTATION));
    assertThat(ZtocCodec.encode(artifacts.ztocFor(LAYER.digest()).orElseThrow()))
        .isEqualTo(ZtocCodec.encode(LAYER.ztoc()));
  }

  @Test
  void discover_v1TagSchema_findsIndex() throws IOException {
    ImageRef repository = repository("v1/app");
    Descriptor ztoc = pushLayerAndZtoc(repository);
    Descriptor manifest = pushImageManifest(repository, Map.of());
    SociIndex index =
        SociIndex.builder(SociIndex.Version.V1).addZtoc(ztoc).subject(manifest).build();
    byte[] indexBytes = index.toBytes();
    Digest indexDigest =
        client.pushManifest(
            new ImageRef(registry.host(), "v1/app", null, Digest.sha256Of(indexBytes)),
            MediaType.OCI_MANIFEST,
            indexBytes);
    Descriptor listed =
        Descriptor.builder(MediaType.OCI_MANIFEST, indexDigest, indexBytes.length)
            .artifactType(MediaType.SOCI_INDEX_V1)
            .build();
    ImageIndex referrers = new ImageIndex(MediaType.OCI_INDEX, "", List.of(listed), null, Map.of());
    client.pushIndex(
        ImageRef.parse(registry.host() + "/v1/app:sha256-" + manifest.digest().encoded()),
        referrers);

    Optional<DiscoveredIndex> withoutV1 =
        discovery(DiscoveryOptions.defaults()).discover(repository, manifest.digest(), null);
    SociIndexDiscovery discovery = discovery(DiscoveryOptions.defaults().withV1Enabled(true));
    Optional<DiscoveredIndex> found = discovery.discover(repository, manifest.digest(), null);
    SociArtifacts artifacts = discovery.fetchArtifacts(repository, found.orElseThrow());

    assertThat(withoutV1).isEmpty();
    assertThat(found).hasValue(new DiscoveredIndex(indexDigest, IndexSource.V1_TAG_SCHEMA));
    assertThat(artifacts.index().version()).isEqualTo(SociIndex.Version.V1);
    assertThat(artifacts.ztocFor(LAYER.digest())).isPresent();
  }
}
