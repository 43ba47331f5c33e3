package dev.jsoci.fetcher.discovery;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.OciFormatException;
import dev.jsoci.oci.SociAnnotations;
import dev.jsoci.oci.SociIndex;
import dev.jsoci.testing.RandomLayer;
import dev.jsoci.ztoc.ZtocCodec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class SociIndexDiscoveryTest {
  private static final ImageRef REPOSITORY = ImageRef.parse("registry.test/app:1");
  private static final Duration TTL = Duration.ofSeconds(30);

  private final FakeIndexRegistry registry = new FakeIndexRegistry();
  private final AtomicLong nanos = new AtomicLong();

  private SociIndexDiscovery discovery(DiscoveryOptions options) {
    return new SociIndexDiscovery(registry, options, Runnable::run);
  }

  private DiscoveryOptions options() {
    return DiscoveryOptions.defaults().withNoIndexTtl(TTL).withTicker(nanos::get);
  }

  private void advance(Duration duration) {
    nanos.addAndGet(duration.toNanos());
  }

  private Digest putImageManifest(Map<String, String> annotations) {
    Descriptor config =
        Descriptor.of(
            MediaType.OCI_CONFIG, Digest.sha256Of("{}".getBytes(StandardCharsets.UTF_8)), 2);
    ImageManifest manifest =
        new ImageManifest(MediaType.OCI_MANIFEST, "", config, List.of(), null, annotations);
    return registry.putManifest(MediaType.OCI_MANIFEST, manifest.toBytes());
  }

  private static Digest digestOf(String text) {
    return Digest.sha256Of(text.getBytes(StandardCharsets.UTF_8));
  }

  private static ImageIndex referrers(Descriptor... manifests) {
    return new ImageIndex(MediaType.OCI_INDEX, "", List.of(manifests), null, Map.of());
  }

  private static Descriptor referrer(Digest digest, String artifactType) {
    return Descriptor.builder(MediaType.OCI_MANIFEST, digest, 500)
        .artifactType(artifactType)
        .build();
  }

  @Test
  void discover_v2Annotation_returnsIndex() throws IOException {
    Digest index = digestOf("index");
    Digest manifest = putImageManifest(Map.of(SociAnnotations.INDEX_DIGEST, index.toString()));

    Optional<DiscoveredIndex> found = discovery(options()).discover(REPOSITORY, manifest, null);

    assertThat(found).hasValue(new DiscoveredIndex(index, IndexSource.V2_ANNOTATION));
  }

  @Test
  void discover_knownManifest_isNotFetchedAgain() throws IOException {
    Digest index = digestOf("index");
    Descriptor config =
        Descriptor.of(
            MediaType.OCI_CONFIG, Digest.sha256Of("{}".getBytes(StandardCharsets.UTF_8)), 2);
    ImageManifest manifest =
        new ImageManifest(
            MediaType.OCI_MANIFEST,
            "",
            config,
            List.of(),
            null,
            Map.of(SociAnnotations.INDEX_DIGEST, index.toString()));

    Optional<DiscoveredIndex> found =
        discovery(options()).discover(REPOSITORY, digestOf("manifest"), null, manifest);

    assertThat(found).hasValue(new DiscoveredIndex(index, IndexSource.V2_ANNOTATION));
    assertThat(registry.calls()).isEmpty();
  }

  @Test
  void discover_label_usedWithoutAskingRegistry() throws IOException {
    Digest index = digestOf("label");

    Optional<DiscoveredIndex> found =
        discovery(options()).discover(REPOSITORY, digestOf("manifest"), index);

    assertThat(found).hasValue(new DiscoveredIndex(index, IndexSource.LABEL));
    assertThat(registry.calls()).isEmpty();
  }

  @Test
  void discover_bothVersionsDisabled_findsNothing() throws IOException {
    Digest manifest =
        putImageManifest(Map.of(SociAnnotations.INDEX_DIGEST, digestOf("i").toString()));

    Optional<DiscoveredIndex> found =
        discovery(options().withV2Enabled(false)).discover(REPOSITORY, manifest, null);

    assertThat(found).isEmpty();
    assertThat(registry.calls()).isEmpty();
  }

  @Test
  void discover_noAnnotation_rememberedForTtlThenCheckedAgain() throws IOException {
    Digest manifest = putImageManifest(Map.of());
    SociIndexDiscovery discovery = discovery(options());

    assertThat(discovery.discover(REPOSITORY, manifest, null)).isEmpty();
    advance(TTL.minusSeconds(1));
    assertThat(discovery.discover(REPOSITORY, manifest, null)).isEmpty();
    assertThat(registry.calls()).hasSize(1);

    advance(Duration.ofSeconds(2));
    assertThat(discovery.discover(REPOSITORY, manifest, null)).isEmpty();
    assertThat(registry.calls()).containsExactly("manifest " + manifest, "manifest " + manifest);
  }

  @Test
  void discover_noIndexOfOtherRepository_isNotShared() throws IOException {
    Digest manifest = putImageManifest(Map.of());
    SociIndexDiscovery discovery = discovery(options());

    discovery.discover(REPOSITORY, manifest, null);
    discovery.discover(ImageRef.parse("registry.test/other:1"), manifest, null);

    assertThat(registry.calls()).hasSize(2);
  }

  @Test
  void discover_fetchError_isNotRemembered() throws IOException {
    Digest index = digestOf("index");
    Digest manifest = putImageManifest(Map.of(SociAnnotations.INDEX_DIGEST, index.toString()));
    SociIndexDiscovery discovery = discovery(options());
    registry.failWith(new IOException("connection refused"));

    IOException e =
        assertThrows(IOException.class, () -> discovery.discover(REPOSITORY, manifest, null));
    assertThat(e).hasMessageThat().isEqualTo("connection refused");

    registry.failWith(null);
    assertThat(discovery.discover(REPOSITORY, manifest, null))
        .hasValue(new DiscoveredIndex(index, IndexSource.V2_ANNOTATION));
  }

  @Test
  void discover_invalidAnnotation_failsNamingIt() throws IOException {
    Digest manifest = putImageManifest(Map.of(SociAnnotations.INDEX_DIGEST, "sha256:xyz"));

    OciFormatException e =
        assertThrows(
            OciFormatException.class,
            () -> discovery(options()).discover(REPOSITORY, manifest, null));

    assertThat(e)
        .hasMessageThat()
        .startsWith(
            "annotation com.amazon.soci.index-digest of manifest "
                + manifest
                + ": invalid digest \"sha256:xyz\"");
  }

  @Test
  void discover_v1Disabled_ignoresReferrers() throws IOException {
    Digest manifest = putImageManifest(Map.of());
    registry.putReferrers(manifest, referrers(referrer(digestOf("v1"), MediaType.SOCI_INDEX_V1)));

    assertThat(discovery(options()).discover(REPOSITORY, manifest, null)).isEmpty();
    assertThat(registry.calls()).containsExactly("manifest " + manifest);
  }

  @Test
  void discover_v1Referrers_returnsFirstOfArtifactType() throws IOException {
    Digest manifest = putImageManifest(Map.of());
    Digest v1 = digestOf("v1 index");
    registry.putReferrers(
        manifest,
        referrers(
            referrer(digestOf("signature"), "application/vnd.dev.cosign.artifact.sig.v1+json"),
            referrer(v1, MediaType.SOCI_INDEX_V1),
            referrer(digestOf("second"), MediaType.SOCI_INDEX_V1)));

    Optional<DiscoveredIndex> found =
        discovery(options().withV1Enabled(true)).discover(REPOSITORY, manifest, null);

    assertThat(found).hasValue(new DiscoveredIndex(v1, IndexSource.V1_REFERRERS));
    assertThat(registry.calls())
        .containsExactly(
            "manifest " + manifest, "referrers " + manifest + " " + MediaType.SOCI_INDEX_V1);
  }

  @Test
  void discover_v1WithoutReferrersApi_usesTagSchema() throws IOException {
    Digest manifest = putImageManifest(Map.of());
    Digest v1 = digestOf("v1 index");
    String tag = "sha256-" + manifest.encoded();
    registry.putTag(tag, referrers(referrer(v1, MediaType.SOCI_INDEX_V1)));

    Optional<DiscoveredIndex> found =
        discovery(options().withV1Enabled(true)).discover(REPOSITORY, manifest, null);

    assertThat(found).hasValue(new DiscoveredIndex(v1, IndexSource.V1_TAG_SCHEMA));
    assertThat(registry.calls())
        .containsExactly(
            "manifest " + manifest,
            "referrers " + manifest + " " + MediaType.SOCI_INDEX_V1,
            "tag " + tag);
  }

  @Test
  void discover_v1OnlyWithoutTag_findsNothing() throws IOException {
    Digest manifest = digestOf("not fetched");

    Optional<DiscoveredIndex> found =
        discovery(options().withV2Enabled(false).withV1Enabled(true))
            .discover(REPOSITORY, manifest, null);

    assertThat(found).isEmpty();
    assertThat(registry.calls())
        .containsExactly(
            "referrers " + manifest + " " + MediaType.SOCI_INDEX_V1,
            "tag sha256-" + manifest.encoded());
  }

  @Test
  void referrersTag_sha256_isAlgorithmDashHex() {
    Digest digest = digestOf("x");

    assertThat(SociIndexDiscovery.referrersTag(digest)).isEqualTo("sha256-" + digest.encoded());
  }

  @Test
  void referrersTag_sha512_cutsEncodedPartTo64() {
    Digest digest = new Digest("sha512", "a".repeat(128));

    assertThat(SociIndexDiscovery.referrersTag(digest)).isEqualTo("sha512-" + "a".repeat(64));
  }

  @Test
  void fetchArtifacts_indexWithTwoZtocs_decodesEachByLayer() throws IOException {
    RandomLayer first = RandomLayer.gzip(1, 5, 30_000);
    RandomLayer second = RandomLayer.gzip(2, 5, 30_000);
    SociIndex index =
        SociIndex.builder(SociIndex.Version.V2)
            .addZtoc(ztocDescriptor(first))
            .addZtoc(ztocDescriptor(second))
            .build();
    Digest indexDigest = registry.putManifest(MediaType.OCI_MANIFEST, index.toBytes());

    SociArtifacts artifacts =
        discovery(options())
            .fetchArtifacts(REPOSITORY, new DiscoveredIndex(indexDigest, IndexSource.LABEL));

    assertThat(artifacts.indexDigest()).isEqualTo(indexDigest);
    assertThat(artifacts.ztocsByLayer().keySet()).containsExactly(first.digest(), second.digest());
    assertThat(ZtocCodec.encode(artifacts.ztocFor(first.digest()).orElseThrow()))
        .isEqualTo(ZtocCodec.encode(first.ztoc()));
    assertThat(ZtocCodec.encode(artifacts.ztocFor(second.digest()).orElseThrow()))
        .isEqualTo(ZtocCodec.encode(second.ztoc()));
  }

  @Test
  void fetchArtifacts_notASociIndex_fails() throws IOException {
    Digest notIndex = putImageManifest(Map.of());

    assertThrows(
        OciFormatException.class,
        () ->
            discovery(options())
                .fetchArtifacts(REPOSITORY, new DiscoveredIndex(notIndex, IndexSource.LABEL)));
  }

  private Descriptor ztocDescriptor(RandomLayer layer) {
    byte[] bytes = ZtocCodec.encode(layer.ztoc());
    Descriptor blob = registry.putBlob(MediaType.SOCI_ZTOC, bytes);
    Descriptor layerDescriptor =
        Descriptor.of(MediaType.OCI_LAYER_TAR_GZIP, layer.digest(), layer.blob().length);
    return SociIndex.ztocDescriptor(
        blob.digest(), blob.size(), layerDescriptor, RandomLayer.SPAN_SIZE, false);
  }
}
