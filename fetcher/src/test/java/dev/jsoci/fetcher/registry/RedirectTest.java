package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fetcher.registry.MockRegistry.response;

import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import java.io.IOException;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Blob reads that the registry redirects to another host, as registries backed by S3 or a CDN do
 * with signed URLs. The object store runs on 127.0.0.2, the registry on 127.0.0.1.
 */
class RedirectTest {
  private static final byte[] BLOB = randomBytes(4096);
  private static final Digest DIGEST = Digest.sha256Of(BLOB);
  private static final String BASIC = "Basic dXNlcjpwYXNz";

  private final FakeTime time = new FakeTime();
  private final List<String> hostsSeen = new CopyOnWriteArrayList<>();
  private MockRegistry registry;
  private MockRegistry objectStore;
  private RegistryClient client;
  private ImageRef repository;
  private final AtomicInteger signatures = new AtomicInteger();

  @BeforeEach
  void start() throws IOException {
    registry = MockRegistry.start("127.0.0.1");
    objectStore = MockRegistry.start("127.0.0.2");
    client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(null)
                .credentials(host -> Optional.of(new Credentials("user", "pass")))
                .clock(time)
                .sleeper(time)
                .maxRetries(1)
                .blobLocationTtl(Duration.ofMinutes(5))
                .listener(
                    new RegistryListener() {
                      @Override
                      public void responseReceived(
                          String registryHost, String host, String method, int statusCode) {
                        hostsSeen.add(host + " " + statusCode);
                      }
                    })
                .build());
    repository = registry.ref("app:1");
  }

  @AfterEach
  void stop() {
    client.close();
    registry.close();
    objectStore.close();
  }

  private static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    new Random(7).nextBytes(bytes);
    return bytes;
  }

  /** Returns a signed URL on the object store that expires {@code seconds} after now. */
  private String signedUrl(int seconds) {
    String date =
        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .format(time.instant().atOffset(ZoneOffset.UTC));
    return objectStore.url(
        "/bucket/blob?X-Amz-Date="
            + date
            + "&X-Amz-Expires="
            + seconds
            + "&X-Amz-Signature=sig"
            + signatures.incrementAndGet());
  }

  /** Sets a registry that requires Basic credentials and redirects blob reads to a signed URL. */
  private void redirectWithExpiry(int seconds) {
    registry.handle(
        request -> {
          if (!BASIC.equals(request.getHeaders().get("Authorization"))) {
            return response(401, "", "WWW-Authenticate", "Basic realm=\"registry\"");
          }
          return response(307, "", "Location", signedUrl(seconds));
        });
  }

  /** Returns the object store's response: a range for URLs whose signature is in {@code valid}. */
  private static MockResponse serveRange(RecordedRequest request, List<String> valid) {
    if (!valid.contains(request.getUrl().queryParameter("X-Amz-Signature"))) {
      return response(403, "<Error><Code>AccessDenied</Code></Error>");
    }
    String[] bounds = request.getHeaders().get("Range").substring(6).split("-");
    int first = Integer.parseInt(bounds[0]);
    int last = Integer.parseInt(bounds[1]);
    return response(
        206,
        Arrays.copyOfRange(BLOB, first, last + 1),
        "Content-Range",
        "bytes " + first + "-" + last + "/" + BLOB.length);
  }

  @Test
  void readBlobRange_redirectToOtherHost() throws IOException {
    redirectWithExpiry(900);
    objectStore.handle(request -> serveRange(request, List.of("sig1")));

    byte[] first = client.readBlobRange(repository, DIGEST, 0, 100, BLOB.length);
    byte[] second = client.readBlobRange(repository, DIGEST, 1000, 100, BLOB.length);

    assertThat(first).isEqualTo(Arrays.copyOfRange(BLOB, 0, 100));
    assertThat(second).isEqualTo(Arrays.copyOfRange(BLOB, 1000, 1100));
    assertThat(registry.requestLines())
        .containsExactly("GET /v2/app/blobs/" + DIGEST, "GET /v2/app/blobs/" + DIGEST);
    assertThat(registry.requests().get(1).getHeaders().get("Authorization")).isEqualTo(BASIC);
    List<RecordedRequest> storeRequests = objectStore.requests();
    assertThat(storeRequests).hasSize(2);
    for (RecordedRequest request : storeRequests) {
      assertThat(request.getHeaders().get("Authorization")).isNull();
      assertThat(request.getUrl().queryParameter("X-Amz-Signature")).isEqualTo("sig1");
    }
    assertThat(storeRequests.get(0).getHeaders().get("Range")).isEqualTo("bytes=0-99");
    assertThat(storeRequests.get(1).getHeaders().get("Range")).isEqualTo("bytes=1000-1099");
  }

  @Test
  void readBlobRange_targetFails() throws IOException {
    redirectWithExpiry(900);
    List<String> valid = new ArrayList<>(List.of("sig1"));
    objectStore.handle(request -> serveRange(request, valid));
    client.readBlobRange(repository, DIGEST, 0, 100, BLOB.length);

    // The object store stops accepting the first signature, as after a key rotation.
    valid.set(0, "sig2");
    byte[] bytes = client.readBlobRange(repository, DIGEST, 200, 100, BLOB.length);

    assertThat(bytes).isEqualTo(Arrays.copyOfRange(BLOB, 200, 300));
    List<String> signaturesSent = new ArrayList<>();
    for (RecordedRequest request : objectStore.requests()) {
      signaturesSent.add(request.getUrl().queryParameter("X-Amz-Signature"));
    }
    assertThat(signaturesSent).containsExactly("sig1", "sig1", "sig2").inOrder();
    assertThat(registry.requests()).hasSize(3);
  }

  @Test
  void readBlobRange_targetExpired() throws IOException {
    redirectWithExpiry(120);
    objectStore.handle(request -> serveRange(request, List.of("sig1", "sig2")));
    client.readBlobRange(repository, DIGEST, 0, 100, BLOB.length);

    // The signed URL is good for 120 s; it is not used in its last 30 s.
    time.advance(Duration.ofSeconds(91));
    client.readBlobRange(repository, DIGEST, 0, 100, BLOB.length);

    List<String> signaturesSent = new ArrayList<>();
    for (RecordedRequest request : objectStore.requests()) {
      signaturesSent.add(request.getUrl().queryParameter("X-Amz-Signature"));
    }
    assertThat(signaturesSent).containsExactly("sig1", "sig2").inOrder();
  }

  @Test
  void readBlobRange_targetOlderThanTtl() throws IOException {
    redirectWithExpiry(3600);
    objectStore.handle(request -> serveRange(request, List.of("sig1", "sig2")));
    client.readBlobRange(repository, DIGEST, 0, 100, BLOB.length);

    time.advance(Duration.ofMinutes(4));
    client.readBlobRange(repository, DIGEST, 0, 100, BLOB.length);
    time.advance(Duration.ofMinutes(2));
    client.readBlobRange(repository, DIGEST, 0, 100, BLOB.length);

    List<String> signaturesSent = new ArrayList<>();
    for (RecordedRequest request : objectStore.requests()) {
      signaturesSent.add(request.getUrl().queryParameter("X-Amz-Signature"));
    }
    assertThat(signaturesSent).containsExactly("sig1", "sig1", "sig2").inOrder();
  }

  @Test
  void readBlobRange_redirectOnSameHost() throws IOException {
    registry.handle(
        request -> {
          if (!BASIC.equals(request.getHeaders().get("Authorization"))) {
            return response(401, "", "WWW-Authenticate", "Basic realm=\"registry\"");
          }
          if (request.getUrl().encodedPath().startsWith("/v2/")) {
            return response(302, "", "Location", "/storage/blob");
          }
          return response(
              206, Arrays.copyOfRange(BLOB, 0, 10), "Content-Range", "bytes 0-9/" + BLOB.length);
        });

    byte[] bytes = client.readBlobRange(repository, DIGEST, 0, 10, BLOB.length);

    assertThat(bytes).isEqualTo(Arrays.copyOfRange(BLOB, 0, 10));
    RecordedRequest storage = registry.requests().get(registry.requests().size() - 1);
    assertThat(storage.getTarget()).isEqualTo("/storage/blob");
    assertThat(storage.getHeaders().get("Authorization")).isEqualTo(BASIC);
  }

  @Test
  void listener_seesEveryHost() throws IOException {
    redirectWithExpiry(900);
    objectStore.handle(request -> serveRange(request, List.of("sig1")));

    client.readBlobRange(repository, DIGEST, 0, 100, BLOB.length);

    assertThat(hostsSeen)
        .containsExactly(
            registry.host() + " 401", registry.host() + " 307", objectStore.host() + " 206")
        .inOrder();
  }
}
