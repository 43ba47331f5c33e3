package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.Platform;
import dev.jsoci.testing.LocalRegistry;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The registry client against a real Distribution registry (Debian's docker-registry). */
class LocalRegistryClientTest {
  private static LocalRegistry registry;
  private static RegistryClient client;
  private static final RegistryStatistics statistics = new RegistryStatistics();
  private static final List<String> methods = new java.util.concurrent.CopyOnWriteArrayList<>();

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
                .chunkedUploadThresholdBytes(64 * 1024)
                .uploadChunkBytes(10_000)
                .listener(
                    new RegistryListener() {
                      @Override
                      public void responseReceived(
                          String registryHost, String host, String method, int statusCode) {
                        methods.add(method + " " + statusCode);
                        statistics.responseReceived(registryHost, host, method, statusCode);
                      }

                      @Override
                      public void bytesReceived(String registryHost, String host, long count) {
                        statistics.bytesReceived(registryHost, host, count);
                      }
                    })
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

  @Test
  void fetchReferrers_registryWithoutTheApi_isEmpty() throws IOException {
    Digest subject = Digest.sha256Of(new byte[] {1});

    assertThat(client.fetchReferrers(ref("app:1"), subject, MediaType.SOCI_INDEX_V1)).isEmpty();
  }

  private static ImageRef ref(String nameAndTag) {
    return ImageRef.parse(registry.host() + "/" + nameAndTag);
  }

  private static byte[] randomBytes(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  private static Descriptor layerOf(byte[] content) {
    return Descriptor.of(MediaType.OCI_LAYER_TAR_GZIP, Digest.sha256Of(content), content.length);
  }

  @Test
  void pushBlob_small() throws IOException {
    ImageRef repository = ref("small/app:1");
    byte[] content = randomBytes(1000, 1);
    Descriptor blob = layerOf(content);

    assertThat(client.pushBlob(repository, blob, BlobSource.of(content)))
        .isEqualTo(BlobPushOutcome.UPLOADED);

    assertThat(client.readBlob(repository, blob)).isEqualTo(content);
    assertThat(client.findBlobSize(repository, blob.digest())).isEqualTo(OptionalLong.of(1000));
  }

  @Test
  void pushBlob_aboveThreshold() throws IOException {
    ImageRef repository = ref("chunked/app:1");
    byte[] content = randomBytes(100_000, 2);
    Descriptor blob = layerOf(content);
    methods.clear();

    assertThat(client.pushBlob(repository, blob, BlobSource.of(content)))
        .isEqualTo(BlobPushOutcome.UPLOADED);

    // 100 000 bytes in chunks of 10 000: ten PATCH requests, then the completing PUT.
    assertThat(methods)
        .containsExactly(
            "HEAD 404",
            "POST 202",
            "PATCH 202",
            "PATCH 202",
            "PATCH 202",
            "PATCH 202",
            "PATCH 202",
            "PATCH 202",
            "PATCH 202",
            "PATCH 202",
            "PATCH 202",
            "PATCH 202",
            "PUT 201")
        .inOrder();

    assertThat(client.readBlob(repository, blob)).isEqualTo(content);
  }

  @Test
  void pushBlob_existing() throws IOException {
    ImageRef repository = ref("existing/app:1");
    byte[] content = randomBytes(500, 3);
    Descriptor blob = layerOf(content);
    client.pushBlob(repository, blob, BlobSource.of(content));

    BlobSource failing =
        () -> {
          throw new AssertionError("the content must not be read for an existing blob");
        };
    assertThat(client.pushBlob(repository, blob, failing))
        .isEqualTo(BlobPushOutcome.ALREADY_EXISTS);
  }

  @Test
  void pushBlob_streamOfUnknownLength() throws IOException {
    ImageRef repository = ref("stream/app:1");
    byte[] small = randomBytes(3000, 4);
    byte[] large = randomBytes(150_000, 5);

    Descriptor smallBlob =
        client.pushBlob(repository, MediaType.OCI_LAYER_TAR, new ByteArrayInputStream(small));
    Descriptor largeBlob =
        client.pushBlob(repository, MediaType.OCI_LAYER_TAR, new ByteArrayInputStream(large));

    assertThat(smallBlob)
        .isEqualTo(Descriptor.of(MediaType.OCI_LAYER_TAR, Digest.sha256Of(small), 3000));
    assertThat(largeBlob)
        .isEqualTo(Descriptor.of(MediaType.OCI_LAYER_TAR, Digest.sha256Of(large), 150_000));
    assertThat(client.readBlob(repository, largeBlob)).isEqualTo(large);
  }

  @Test
  void mountBlob_fromOtherRepository() throws IOException {
    ImageRef source = ref("mount-source/app:1");
    ImageRef target = ref("mount-target/app:1");
    byte[] content = randomBytes(2000, 6);
    Descriptor blob = layerOf(content);
    client.pushBlob(source, blob, BlobSource.of(content));

    BlobSource failing =
        () -> {
          throw new AssertionError("the content must not be read for a mounted blob");
        };
    assertThat(client.mountBlob(target, blob, "mount-source/app", failing))
        .isEqualTo(BlobPushOutcome.MOUNTED);

    assertThat(client.readBlob(target, blob)).isEqualTo(content);
  }

  @Test
  void mountBlob_sourceWithoutBlob() throws IOException {
    ImageRef target = ref("mount-fallback/app:1");
    byte[] content = randomBytes(2000, 7);
    Descriptor blob = layerOf(content);

    assertThat(client.mountBlob(target, blob, "nowhere/app", BlobSource.of(content)))
        .isEqualTo(BlobPushOutcome.UPLOADED);

    assertThat(client.readBlob(target, blob)).isEqualTo(content);
  }

  @Test
  void pushManifest_byTag() throws IOException {
    ImageRef image = ref("manifest/app:v1");
    ImageManifest manifest = pushImage(image, 8);

    Digest digest = client.pushManifest(image, manifest);

    ManifestContent byTag = client.fetchManifest(image);
    assertThat(byTag.descriptor().digest()).isEqualTo(digest);
    assertThat(byTag.descriptor().mediaType()).isEqualTo(MediaType.OCI_MANIFEST);
    assertThat(byTag.bytes()).isEqualTo(manifest.toBytes());
    ManifestContent byDigest = client.fetchManifest(image, digest);
    assertThat(byDigest.bytes()).isEqualTo(manifest.toBytes());
    assertThat(byDigest.descriptor().size()).isEqualTo(manifest.toBytes().length);
  }

  @Test
  void resolveImage_index() throws IOException {
    ImageRef image = ref("multi/app:v1");
    ImageManifest amd64 = pushImage(image, 9);
    ImageManifest arm64 = pushImage(image, 10);
    Digest amd64Digest = client.pushManifest(byDigest(image, amd64), amd64);
    Digest arm64Digest = client.pushManifest(byDigest(image, arm64), arm64);
    ImageIndex index =
        new ImageIndex(
            MediaType.OCI_INDEX,
            "",
            List.of(
                Descriptor.builder(MediaType.OCI_MANIFEST, amd64Digest, amd64.toBytes().length)
                    .platform(Platform.of("linux", "amd64"))
                    .build(),
                Descriptor.builder(MediaType.OCI_MANIFEST, arm64Digest, arm64.toBytes().length)
                    .platform(Platform.of("linux", "arm64", "v8"))
                    .build()),
            null,
            Map.of());
    Digest indexDigest = client.pushIndex(image, index);

    ResolvedImage resolved = client.resolveImage(image, Platform.of("linux", "aarch64"));

    assertThat(resolved.index().descriptor().digest()).isEqualTo(indexDigest);
    assertThat(resolved.index().descriptor().mediaType()).isEqualTo(MediaType.OCI_INDEX);
    assertThat(resolved.manifest().descriptor().digest()).isEqualTo(arm64Digest);
    assertThat(resolved.parsedManifest()).isEqualTo(arm64);

    ManifestNotFoundException missing =
        assertThrows(
            ManifestNotFoundException.class,
            () -> client.resolveImage(image, Platform.of("linux", "s390x")));
    assertThat(missing)
        .hasMessageThat()
        .isEqualTo(
            "no manifest for platform linux/s390x in index "
                + image
                + " (found linux/amd64, linux/arm64/v8)");
  }

  @Test
  void fetchManifest_unknownTag() {
    ImageRef image = ref("manifest/app:missing");

    ManifestNotFoundException e =
        assertThrows(ManifestNotFoundException.class, () -> client.fetchManifest(image));

    assertThat(e.statusCode()).isEqualTo(404);
    assertThat(e)
        .hasMessageThat()
        .startsWith(
            "manifest "
                + image
                + " not found: GET "
                + registry.url()
                + "/v2/manifest/app/manifests/missing returned status 404 (MANIFEST_UNKNOWN");
  }

  @Test
  void readBlobRange_returnsExactBytes() throws IOException {
    ImageRef repository = ref("ranges/app:1");
    byte[] content = randomBytes(70_000, 11);
    Descriptor blob = layerOf(content);
    client.pushBlob(repository, blob, BlobSource.of(content));

    for (long[] range : new long[][] {{0, 1}, {0, 70_000}, {12_345, 777}, {69_999, 1}}) {
      int offset = (int) range[0];
      int length = (int) range[1];
      byte[] bytes =
          client.readBlobRange(repository, blob.digest(), offset, length, content.length);
      assertThat(bytes).isEqualTo(Arrays.copyOfRange(content, offset, offset + length));
    }
  }

  @Test
  void readBlobRange_pastEnd() throws IOException {
    ImageRef repository = ref("ranges/past-end:1");
    byte[] content = randomBytes(1000, 12);
    Descriptor blob = layerOf(content);
    client.pushBlob(repository, blob, BlobSource.of(content));

    RangeNotSatisfiableException e =
        assertThrows(
            RangeNotSatisfiableException.class,
            () -> client.readBlobRange(repository, blob.digest(), 2000, 10, -1));

    assertThat(e.blobSize()).isEqualTo(OptionalLong.of(1000));
    assertThat(e)
        .hasMessageThat()
        .startsWith(
            "blob "
                + blob.digest()
                + " of "
                + repository.name()
                + ": bytes=2000-2009 is not satisfiable (blob size 1000 bytes): GET");
  }

  @Test
  void newBlobStream_readsAndVerifies() throws IOException {
    ImageRef repository = ref("streamed/app:1");
    byte[] content = randomBytes(200_000, 13);
    Descriptor blob = layerOf(content);
    client.pushBlob(repository, blob, BlobSource.of(content));

    try (InputStream in = client.newBlobStream(repository, blob)) {
      assertThat(in.readAllBytes()).isEqualTo(content);
    }
  }

  @Test
  void readBlob_wrongDescriptorDigest() throws IOException {
    ImageRef repository = ref("mismatch/app:1");
    byte[] content = randomBytes(100, 14);
    Descriptor blob = layerOf(content);
    client.pushBlob(repository, blob, BlobSource.of(content));
    // The registry serves by digest, so a wrong size is the way to feed it a wrong expectation.
    Descriptor wrongSize = Descriptor.of(blob.mediaType(), blob.digest(), 99);

    RegistryException e =
        assertThrows(RegistryException.class, () -> client.readBlob(repository, wrongSize));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "blob "
                + blob.digest()
                + " of "
                + repository.name()
                + ": received more than the expected 99 bytes");
  }

  @Test
  void statistics_countRequestsAndBytes() throws IOException {
    ImageRef repository = ref("stats/app:1");
    byte[] content = "counted".getBytes(StandardCharsets.UTF_8);
    Descriptor blob = layerOf(content);
    client.pushBlob(repository, blob, BlobSource.of(content));
    long before = statistics.snapshot().get(registry.host()).bytesReceived();

    client.readBlob(repository, blob);

    RegistryStatistics.Counts counts = statistics.snapshot().get(registry.host());
    assertThat(counts.bytesReceived() - before).isEqualTo(content.length);
    assertThat(counts.requests()).isGreaterThan(0);
  }

  private static ImageRef byDigest(ImageRef image, ImageManifest manifest) {
    Digest digest = Digest.sha256Of(manifest.toBytes());
    return new ImageRef(image.registryHost(), image.repository(), null, digest);
  }

  /** Pushes a config and a layer and returns a manifest that refers to them. */
  private static ImageManifest pushImage(ImageRef image, long seed) throws IOException {
    byte[] config = ("{\"seed\":" + seed + "}").getBytes(StandardCharsets.UTF_8);
    byte[] layer = randomBytes(300, seed);
    Descriptor configBlob =
        Descriptor.of(MediaType.OCI_CONFIG, Digest.sha256Of(config), config.length);
    Descriptor layerBlob = layerOf(layer);
    client.pushBlob(image, configBlob, BlobSource.of(config));
    client.pushBlob(image, layerBlob, BlobSource.of(layer));
    return new ImageManifest(
        MediaType.OCI_MANIFEST, "", configBlob, List.of(layerBlob), null, Map.of());
  }
}
