package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fetcher.registry.MockRegistry.response;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Manifest reads against a MockWebServer: digests, media types and size limits. */
class ManifestFaultTest {
  private static final String MANIFEST =
      "{\"schemaVersion\":2,\"mediaType\":\""
          + MediaType.OCI_MANIFEST
          + "\",\"config\":{"
          + "\"mediaType\":\""
          + MediaType.OCI_CONFIG
          + "\",\"digest\":\""
          + Digest.sha256Of(new byte[0])
          + "\",\"size\":0},\"layers\":[]}";
  private static final Digest DIGEST = Digest.sha256Of(MANIFEST.getBytes(StandardCharsets.UTF_8));

  private MockRegistry registry;
  private RegistryClient client;

  @BeforeEach
  void start() throws IOException {
    registry = MockRegistry.start();
    client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(null)
                .credentials(CredentialStore.ANONYMOUS)
                .maxRetries(0)
                .maxManifestBytes(1024)
                .build());
  }

  @AfterEach
  void stop() {
    client.close();
    registry.close();
  }

  @Test
  void fetchManifest_sendsAcceptForManifestsAndIndexes() throws IOException {
    registry.handle(request -> response(200, MANIFEST, "Content-Type", MediaType.OCI_MANIFEST));

    ManifestContent content = client.fetchManifest(registry.ref("app:1"));

    assertThat(content.descriptor().digest()).isEqualTo(DIGEST);
    assertThat(registry.requests().get(0).getHeaders().get("Accept"))
        .isEqualTo(
            MediaType.OCI_MANIFEST
                + ", "
                + MediaType.OCI_INDEX
                + ", "
                + MediaType.DOCKER_MANIFEST
                + ", "
                + MediaType.DOCKER_MANIFEST_LIST);
  }

  @Test
  void fetchManifest_byDigestWithOtherBytes() {
    String tampered = MANIFEST.replace("\"layers\":[]", "\"layers\":[ ]");
    registry.handle(request -> response(200, tampered, "Content-Type", MediaType.OCI_MANIFEST));
    ImageRef byDigest = registry.ref("app@" + DIGEST);

    DigestMismatchException e =
        assertThrows(DigestMismatchException.class, () -> client.fetchManifest(byDigest));

    Digest actual = Digest.sha256Of(tampered.getBytes(StandardCharsets.UTF_8));
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "manifest "
                + byDigest
                + ": digest mismatch, expected "
                + DIGEST
                + ", actual "
                + actual);
    assertThat(registry.requestLines()).containsExactly("GET /v2/app/manifests/" + DIGEST);
  }

  @Test
  void fetchManifest_byTagWithWrongAnnouncedDigest() {
    Digest announced = Digest.sha256Of(new byte[] {1});
    registry.handle(
        request ->
            response(
                200,
                MANIFEST,
                "Content-Type",
                MediaType.OCI_MANIFEST,
                "Docker-Content-Digest",
                announced.toString()));
    ImageRef image = registry.ref("app:1");

    DigestMismatchException e =
        assertThrows(DigestMismatchException.class, () -> client.fetchManifest(image));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "manifest "
                + image
                + " (Docker-Content-Digest): digest mismatch, expected "
                + announced
                + ", actual "
                + DIGEST);
  }

  @Test
  void fetchManifest_largerThanLimit() {
    String large = MANIFEST.replace("\"layers\":[]", "\"layers\":[]" + " ".repeat(2000));
    registry.handle(request -> response(200, large, "Content-Type", MediaType.OCI_MANIFEST));
    ImageRef image = registry.ref("app:1");

    RegistryException e = assertThrows(RegistryException.class, () -> client.fetchManifest(image));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("manifest " + image + " is larger than the limit of 1024 bytes");
  }

  @Test
  void fetchManifest_genericContentType() throws IOException {
    registry.handle(request -> response(200, MANIFEST, "Content-Type", "application/json"));

    ManifestContent content = client.fetchManifest(registry.ref("app:1"));

    assertThat(content.descriptor().mediaType()).isEqualTo(MediaType.OCI_MANIFEST);
    assertThat(content.descriptor().size()).isEqualTo(MANIFEST.length());
  }

  @Test
  void resolveImage_unsupportedMediaType() {
    String schema1 = "{\"schemaVersion\":1}";
    registry.handle(
        request ->
            response(
                200,
                schema1,
                "Content-Type",
                "application/vnd.docker.distribution.manifest.v1+prettyjws"));
    ImageRef image = registry.ref("app:1");

    RegistryException e =
        assertThrows(
            RegistryException.class,
            () -> client.resolveImage(image, dev.jsoci.oci.Platform.of("linux", "amd64")));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "manifest "
                + image
                + " has the unsupported media type"
                + " \"application/vnd.docker.distribution.manifest.v1+prettyjws\"");
  }
}
