package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fetcher.registry.MockRegistry.response;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pushes against a MockWebServer that records the requests of the OCI distribution-spec push API.
 */
class PushFaultTest {
  private static final byte[] BLOB =
      "0123456789abcdefghijklmnopqrstuvwxy".getBytes(StandardCharsets.UTF_8);
  private static final Digest DIGEST = Digest.sha256Of(BLOB);
  private static final Descriptor DESCRIPTOR =
      Descriptor.of(MediaType.OCI_LAYER_TAR, DIGEST, BLOB.length);

  private final FakeTime time = new FakeTime();
  private MockRegistry registry;
  private RegistryClient client;
  private ImageRef repository;

  @BeforeEach
  void start() throws IOException {
    registry = MockRegistry.start();
    client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(null)
                .credentials(CredentialStore.ANONYMOUS)
                .clock(time)
                .sleeper(time)
                .maxRetries(2)
                .chunkedUploadThresholdBytes(20)
                .uploadChunkBytes(10)
                .build());
    repository = registry.ref("app:1");
  }

  @AfterEach
  void stop() {
    client.close();
    registry.close();
  }

  private void acceptUploads(boolean mountable) {
    registry.handle(uploads(mountable));
  }

  /** Returns a handler that accepts uploads and numbers the locations it hands out. */
  private static MockRegistry.Handler uploads(boolean mountable) {
    AtomicInteger location = new AtomicInteger();
    return request -> {
      String method = request.getMethod();
      String path = request.getUrl().encodedPath();
      if (method.equals("HEAD")) {
        return response(404, "");
      }
      if (method.equals("POST") && request.getUrl().queryParameter("mount") != null) {
        return mountable
            ? response(201, "", "Docker-Content-Digest", DIGEST.toString())
            : response(202, "", "Location", "/upload/" + location.incrementAndGet());
      }
      if (method.equals("POST")) {
        return response(202, "", "Location", "/upload/" + location.incrementAndGet() + "?_state=s");
      }
      if (method.equals("PATCH")) {
        String[] range = request.getHeaders().get("Content-Range").split("-");
        return response(
            202,
            "",
            "Location",
            "/upload/" + location.incrementAndGet() + "?_state=s",
            "Range",
            "0-" + range[1]);
      }
      if (method.equals("PUT") && path.startsWith("/upload/")) {
        return response(
            201, "", "Docker-Content-Digest", request.getUrl().queryParameter("digest"));
      }
      return response(400, "unexpected " + method + " " + path);
    };
  }

  @Test
  void pushBlob_small() throws IOException {
    acceptUploads(false);
    byte[] small = "tiny".getBytes(StandardCharsets.UTF_8);
    Descriptor blob = Descriptor.of(MediaType.OCI_LAYER_TAR, Digest.sha256Of(small), small.length);

    assertThat(client.pushBlob(repository, blob, BlobSource.of(small)))
        .isEqualTo(BlobPushOutcome.UPLOADED);

    assertThat(registry.requestLines())
        .containsExactly(
            "HEAD /v2/app/blobs/" + blob.digest(),
            "POST /v2/app/blobs/uploads/",
            "PUT /upload/1?_state=s&digest=" + blob.digest().toString().replace(":", "%3A"))
        .inOrder();
    RecordedRequest put = registry.requests().get(2);
    assertThat(put.getBody().utf8()).isEqualTo("tiny");
    assertThat(put.getHeaders().get("Content-Type")).isEqualTo("application/octet-stream");
  }

  @Test
  void pushBlob_aboveThreshold() throws IOException {
    acceptUploads(false);

    client.pushBlob(repository, DESCRIPTOR, BlobSource.of(BLOB));

    assertThat(registry.requestLines())
        .containsExactly(
            "HEAD /v2/app/blobs/" + DIGEST,
            "POST /v2/app/blobs/uploads/",
            "PATCH /upload/1?_state=s",
            "PATCH /upload/2?_state=s",
            "PATCH /upload/3?_state=s",
            "PATCH /upload/4?_state=s",
            "PUT /upload/5?_state=s&digest=" + DIGEST.toString().replace(":", "%3A"))
        .inOrder();
    List<RecordedRequest> requests = registry.requests();
    assertThat(requests.get(2).getHeaders().get("Content-Range")).isEqualTo("0-9");
    assertThat(requests.get(3).getHeaders().get("Content-Range")).isEqualTo("10-19");
    assertThat(requests.get(4).getHeaders().get("Content-Range")).isEqualTo("20-29");
    assertThat(requests.get(5).getHeaders().get("Content-Range")).isEqualTo("30-34");
    assertThat(requests.get(5).getBody().utf8()).isEqualTo("uvwxy");
    assertThat(requests.get(6).getBodySize()).isEqualTo(0);
  }

  @Test
  void pushBlob_unknownLength() throws IOException {
    acceptUploads(false);

    Descriptor pushed =
        client.pushBlob(repository, MediaType.OCI_LAYER_TAR, new ByteArrayInputStream(BLOB));

    assertThat(pushed).isEqualTo(DESCRIPTOR);
    assertThat(registry.requestLines().get(0)).isEqualTo("POST /v2/app/blobs/uploads/");
    assertThat(registry.requestLines().get(5))
        .isEqualTo("PUT /upload/5?_state=s&digest=" + DIGEST.toString().replace(":", "%3A"));
  }

  @Test
  void mountBlob_registryAnswers202() throws IOException {
    acceptUploads(false);
    byte[] small = "tiny".getBytes(StandardCharsets.UTF_8);
    Descriptor blob = Descriptor.of(MediaType.OCI_LAYER_TAR, Digest.sha256Of(small), small.length);

    assertThat(client.mountBlob(repository, blob, "base/app", BlobSource.of(small)))
        .isEqualTo(BlobPushOutcome.UPLOADED);

    String digest = blob.digest().toString().replace(":", "%3A");
    assertThat(registry.requestLines())
        .containsExactly(
            "HEAD /v2/app/blobs/" + blob.digest(),
            "POST /v2/app/blobs/uploads/?mount=" + digest + "&from=base%2Fapp",
            "PUT /upload/1?digest=" + digest)
        .inOrder();
  }

  @Test
  void mountBlob_registryAnswers201() throws IOException {
    acceptUploads(true);

    assertThat(client.mountBlob(repository, DESCRIPTOR, "base/app", BlobSource.of(BLOB)))
        .isEqualTo(BlobPushOutcome.MOUNTED);

    assertThat(registry.requests()).hasSize(2);
  }

  @Test
  void pushBlob_patchFails() throws IOException {
    AtomicInteger patches = new AtomicInteger();
    MockRegistry.Handler accepting = uploads(false);
    registry.handle(
        request -> {
          if (request.getMethod().equals("PATCH") && patches.incrementAndGet() == 2) {
            return response(503, "");
          }
          return accepting.handle(request);
        });

    assertThat(client.pushBlob(repository, DESCRIPTOR, BlobSource.of(BLOB)))
        .isEqualTo(BlobPushOutcome.UPLOADED);

    long posts = registry.requestLines().stream().filter(line -> line.startsWith("POST")).count();
    assertThat(posts).isEqualTo(2);
    assertThat(registry.requestLines().get(registry.requestLines().size() - 1))
        .startsWith("PUT /upload/");
    assertThat(time.sleeps()).hasSize(1);
  }

  @Test
  void pushManifest_wrongAnnouncedDigest() {
    Digest announced = Digest.sha256Of(new byte[] {9});
    registry.handle(request -> response(201, "", "Docker-Content-Digest", announced.toString()));
    byte[] manifest = "{}".getBytes(StandardCharsets.UTF_8);
    ImageRef target = registry.ref("app:v2");

    DigestMismatchException e =
        assertThrows(
            DigestMismatchException.class,
            () -> client.pushManifest(target, MediaType.OCI_MANIFEST, manifest));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "manifest pushed as "
                + target
                + ": digest mismatch, expected "
                + Digest.sha256Of(manifest)
                + ", actual "
                + announced);
    RecordedRequest put = registry.requests().get(0);
    assertThat(put.getMethod()).isEqualTo("PUT");
    assertThat(put.getTarget()).isEqualTo("/v2/app/manifests/v2");
    assertThat(put.getHeaders().get("Content-Type")).isEqualTo(MediaType.OCI_MANIFEST);
  }

  @Test
  void pushManifest_byDigest() {
    byte[] manifest = "{}".getBytes(StandardCharsets.UTF_8);
    Digest other = Digest.sha256Of(new byte[] {1});
    ImageRef target = registry.ref("app@" + other);

    DigestMismatchException e =
        assertThrows(
            DigestMismatchException.class,
            () -> client.pushManifest(target, MediaType.OCI_MANIFEST, manifest));

    assertThat(e.expected()).isEqualTo(other);
    assertThat(registry.requests()).isEmpty();
  }
}
