package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fetcher.registry.MockRegistry.response;

import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Requests through the hosts of a hosts.toml: a mirror first, then the registry. */
class MirrorTest {
  private static final byte[] BLOB = "mirrored content".getBytes(StandardCharsets.UTF_8);
  private static final Digest DIGEST = Digest.sha256Of(BLOB);

  @TempDir Path directory;
  private MockRegistry origin;
  private MockRegistry mirror;
  private RegistryClient client;

  @BeforeEach
  void start() throws IOException {
    origin = MockRegistry.start("127.0.0.1");
    mirror = MockRegistry.start("127.0.0.2");
    Path file = directory.resolve(origin.host()).resolve("hosts.toml");
    Files.createDirectories(file.getParent());
    Files.writeString(
        file,
        "server = \"http://"
            + origin.host()
            + "\"\n"
            + "[host.\"http://"
            + mirror.host()
            + "/cache\"]\n"
            + "  capabilities = [\"pull\"]\n"
            + "  [host.\"http://"
            + mirror.host()
            + "/cache\".header]\n"
            + "    x-mirror-key = \"k1\"\n");
    client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(directory)
                .credentials(CredentialStore.ANONYMOUS)
                .maxRetries(0)
                .build());
  }

  @AfterEach
  void stop() {
    client.close();
    origin.close();
    mirror.close();
  }

  private static mockwebserver3.MockResponse range(int first, int last) {
    return response(
        206,
        Arrays.copyOfRange(BLOB, first, last + 1),
        "Content-Range",
        "bytes " + first + "-" + last + "/" + BLOB.length);
  }

  @Test
  void readBlobRange_mirrorServes() throws IOException {
    mirror.handle(request -> range(0, 7));
    ImageRef repository = ImageRef.parse(origin.host() + "/team/app:1");

    assertThat(client.readBlobRange(repository, DIGEST, 0, 8, BLOB.length))
        .isEqualTo(Arrays.copyOfRange(BLOB, 0, 8));

    assertThat(mirror.requestLines())
        .containsExactly(
            "GET /cache/v2/team/app/blobs/" + DIGEST + "?ns=" + origin.host().replace(":", "%3A"));
    assertThat(mirror.requests().get(0).getHeaders().get("x-mirror-key")).isEqualTo("k1");
    assertThat(origin.requests()).isEmpty();
  }

  @Test
  void readBlobRange_mirrorFails() throws IOException {
    mirror.handle(request -> response(500, "broken"));
    origin.handle(request -> range(0, 3));
    ImageRef repository = ImageRef.parse(origin.host() + "/team/app:1");

    client.readBlobRange(repository, DIGEST, 0, 4, BLOB.length);
    client.readBlobRange(repository, DIGEST, 0, 4, BLOB.length);

    assertThat(mirror.requests()).hasSize(1);
    assertThat(origin.requestLines())
        .containsExactly("GET /v2/team/app/blobs/" + DIGEST, "GET /v2/team/app/blobs/" + DIGEST);
    assertThat(origin.requests().get(0).getHeaders().get("x-mirror-key")).isNull();
  }

  @Test
  void fetchManifest_tagWithPullOnlyMirror() throws IOException {
    String manifest =
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\""
            + MediaType.OCI_CONFIG
            + "\",\"digest\":\""
            + Digest.sha256Of(new byte[0])
            + "\",\"size\":0}}";
    origin.handle(request -> response(200, manifest, "Content-Type", MediaType.OCI_MANIFEST));
    mirror.handle(request -> response(200, manifest, "Content-Type", MediaType.OCI_MANIFEST));

    client.fetchManifest(ImageRef.parse(origin.host() + "/team/app:1"));
    ManifestContent byDigest =
        client.fetchManifest(
            ImageRef.parse(
                origin.host()
                    + "/team/app@"
                    + Digest.sha256Of(manifest.getBytes(StandardCharsets.UTF_8))));

    assertThat(origin.requestLines()).containsExactly("GET /v2/team/app/manifests/1");
    assertThat(mirror.requests()).hasSize(1);
    assertThat(byDigest.descriptor().mediaType()).isEqualTo(MediaType.OCI_MANIFEST);
  }

  @Test
  void readBlobRange_allHostsFail() {
    mirror.handle(request -> response(500, "broken"));
    origin.handle(request -> response(404, ""));
    ImageRef repository = ImageRef.parse(origin.host() + "/team/app:1");

    BlobNotFoundException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            BlobNotFoundException.class,
            () -> client.readBlobRange(repository, DIGEST, 0, 4, BLOB.length));

    assertThat(e.getSuppressed()).hasLength(1);
    assertThat(e.getSuppressed()[0]).hasMessageThat().contains("returned status 500");
  }
}
