package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fetcher.registry.MockRegistry.response;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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

  /** Returns a client with {@code mirrors} from its settings and the hosts.toml of this test. */
  private RegistryClient clientWithMirrors(List<RegistryMirror> mirrors) {
    return RegistryClient.create(
        RegistryOptions.builder()
            .hostsDirectory(directory)
            .credentials(CredentialStore.ANONYMOUS)
            .maxRetries(0)
            .readTimeout(Duration.ofMinutes(2))
            .callTimeout(Duration.ofMinutes(2))
            .mirrors(Map.of(origin.host(), mirrors))
            .build());
  }

  /**
   * Returns a client with one configured {@code mirror}, 3 retries and {@code time} as its clock
   * and sleeper.
   */
  private RegistryClient clientWithMirror(RegistryMirror mirror, FakeTime time) {
    return RegistryClient.create(
        RegistryOptions.builder()
            .hostsDirectory(directory)
            .credentials(CredentialStore.ANONYMOUS)
            .maxRetries(3)
            .clock(time)
            .sleeper(time)
            .mirrors(Map.of(origin.host(), List.of(mirror)))
            .build());
  }

  @Test
  void configuredMirror_isTriedBeforeHostsToml() throws IOException {
    try (MockRegistry configured = MockRegistry.start("127.0.0.3");
        RegistryClient withMirror =
            clientWithMirrors(List.of(new RegistryMirror(configured.host(), false, null)))) {
      configured.handle(request -> range(0, 7));
      ImageRef repository = ImageRef.parse(origin.host() + "/team/app:1");

      byte[] bytes = withMirror.readBlobRange(repository, DIGEST, 0, 8, BLOB.length);

      assertThat(bytes).isEqualTo(Arrays.copyOfRange(BLOB, 0, 8));
      assertThat(configured.requestLines())
          .containsExactly(
              "GET /v2/team/app/blobs/" + DIGEST + "?ns=" + origin.host().replace(":", "%3A"));
      assertThat(mirror.requests()).isEmpty();
      assertThat(origin.requests()).isEmpty();
    }
  }

  @Test
  void configuredMirror_apiPath_isTheApiRoot() throws IOException {
    try (MockRegistry configured = MockRegistry.start("127.0.0.3");
        RegistryClient withMirror =
            clientWithMirrors(
                List.of(new RegistryMirror(configured.host(), false, null, "http", "/cache/v2")))) {
      configured.handle(request -> range(0, 7));
      ImageRef repository = ImageRef.parse(origin.host() + "/team/app:1");

      byte[] bytes = withMirror.readBlobRange(repository, DIGEST, 0, 8, BLOB.length);

      assertThat(bytes).isEqualTo(Arrays.copyOfRange(BLOB, 0, 8));
      assertThat(configured.requestLines())
          .containsExactly(
              "GET /cache/v2/team/app/blobs/"
                  + DIGEST
                  + "?ns="
                  + origin.host().replace(":", "%3A"));
    }
  }

  @Test
  void configuredMirrors_failing_fallBackInOrder() throws IOException {
    try (MockRegistry first = MockRegistry.start("127.0.0.3");
        MockRegistry second = MockRegistry.start("127.0.0.4");
        RegistryClient withMirrors =
            clientWithMirrors(
                List.of(
                    new RegistryMirror(first.host(), false, null),
                    new RegistryMirror(second.host(), false, null)))) {
      first.handle(request -> response(503, "down"));
      second.handle(request -> response(404, ""));
      mirror.handle(request -> range(0, 3));
      ImageRef repository = ImageRef.parse(origin.host() + "/team/app:1");

      byte[] bytes = withMirrors.readBlobRange(repository, DIGEST, 0, 4, BLOB.length);

      assertThat(bytes).isEqualTo(Arrays.copyOfRange(BLOB, 0, 4));
      assertThat(first.requests()).hasSize(1);
      assertThat(second.requests()).hasSize(1);
      assertThat(mirror.requests()).hasSize(1);
      assertThat(origin.requests()).isEmpty();
    }
  }

  /**
   * Returns another blob digest. A blob read once is read from the host that served it, so each
   * read that must go through the host list again names a new blob.
   */
  private static Digest otherDigest(int n) {
    return Digest.sha256Of(("other blob " + n).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void failingMirror_getsOneAttempt_notTheRetries() throws IOException {
    FakeTime time = new FakeTime();
    try (MockRegistry configured = MockRegistry.start("127.0.0.3");
        RegistryClient withMirror =
            clientWithMirror(new RegistryMirror(configured.host(), false, null), time)) {
      configured.handle(request -> response(503, "busy"));
      mirror.handle(request -> range(0, 3));
      ImageRef repository = ImageRef.parse(origin.host() + "/team/app:1");

      withMirror.readBlobRange(repository, DIGEST, 0, 4, BLOB.length);
      withMirror.readBlobRange(repository, otherDigest(1), 0, 4, BLOB.length);

      // A 503 is a response, so the mirror stays in use, but each request gets one attempt.
      assertThat(configured.requests()).hasSize(2);
      assertThat(mirror.requests()).hasSize(2);
      assertThat(time.sleeps()).isEmpty();
    }
  }

  @Test
  void unreachableMirror_isSkippedForAWhile() throws IOException {
    FakeTime time = new FakeTime();
    try (MockRegistry slow = MockRegistry.start("127.0.0.3");
        RegistryClient withMirror =
            clientWithMirror(
                new RegistryMirror(slow.host(), false, Duration.ofMillis(300)), time)) {
      slow.handle(
          request ->
              new mockwebserver3.MockResponse.Builder()
                  .code(206)
                  .headersDelay(10, TimeUnit.SECONDS)
                  .build());
      mirror.handle(request -> range(0, 3));
      ImageRef repository = ImageRef.parse(origin.host() + "/team/app:1");

      withMirror.readBlobRange(repository, DIGEST, 0, 4, BLOB.length);
      withMirror.readBlobRange(repository, otherDigest(1), 0, 4, BLOB.length);
      int requestsWhileSkipped = slow.requests().size();
      time.advance(HostsDirectory.UNREACHABLE_SKIP.plusSeconds(1));
      withMirror.readBlobRange(repository, otherDigest(2), 0, 4, BLOB.length);

      assertThat(requestsWhileSkipped).isEqualTo(1);
      assertThat(slow.requests()).hasSize(2);
      assertThat(mirror.requests()).hasSize(3);
    }
  }

  @Test
  void configuredMirror_callTimeout_endsASlowAttempt() throws Exception {
    try (MockRegistry slow = MockRegistry.start("127.0.0.3");
        RegistryClient withMirror =
            clientWithMirrors(
                List.of(new RegistryMirror(slow.host(), false, Duration.ofMillis(500))))) {
      slow.handle(
          request ->
              new mockwebserver3.MockResponse.Builder()
                  .code(206)
                  .headersDelay(90, TimeUnit.SECONDS)
                  .build());
      mirror.handle(request -> range(0, 3));
      ImageRef repository = ImageRef.parse(origin.host() + "/team/app:1");

      // The client's own read and call timeouts are 2 minutes, so only the mirror's timeout ends
      // the wait for the slow mirror within the 60 s this test allows.
      byte[] bytes =
          assertTimeoutPreemptively(
              Duration.ofSeconds(60),
              () -> withMirror.readBlobRange(repository, DIGEST, 0, 4, BLOB.length));

      assertThat(bytes).isEqualTo(Arrays.copyOfRange(BLOB, 0, 4));
      assertThat(slow.requests()).hasSize(1);
      assertThat(mirror.requests()).hasSize(1);
    }
  }

  @Test
  void registryMirror_invalidSchemeOrPath_isRejected() {
    IllegalArgumentException scheme =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> new RegistryMirror("mirror", false, null, "ftp", ""));
    IllegalArgumentException path =
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class,
            () -> new RegistryMirror("mirror", false, null, null, "cache/"));

    assertThat(scheme)
        .hasMessageThat()
        .isEqualTo("invalid mirror scheme \"ftp\": expected http or https");
    assertThat(path)
        .hasMessageThat()
        .isEqualTo(
            "invalid mirror API path \"cache/\": expected a path that starts with / and does not"
                + " end with /, such as \"/cache/v2\"");
  }

  @Test
  void registryMirror_invalidHost_isRejected() {
    for (String host : List.of("", "https://mirror", "mirror/path", "mirror:port", "bad host")) {
      IllegalArgumentException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              IllegalArgumentException.class, () -> new RegistryMirror(host, false, null));

      assertThat(e)
          .hasMessageThat()
          .isEqualTo(
              "invalid mirror host \""
                  + host
                  + "\": expected a host name or IP address and an optional port, without scheme"
                  + " or path, such as \"mirror.example.com:5000\"");
    }
  }
}
