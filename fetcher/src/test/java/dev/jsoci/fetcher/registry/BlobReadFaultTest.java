package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fetcher.registry.MockRegistry.response;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Blob reads against a registry that misbehaves: ranges, retries, broken connections. */
class BlobReadFaultTest {
  private static final byte[] BLOB = randomBytes(1000);
  private static final Digest DIGEST = Digest.sha256Of(BLOB);
  private static final Descriptor DESCRIPTOR =
      Descriptor.of(MediaType.OCI_LAYER_TAR_GZIP, DIGEST, BLOB.length);

  private final FakeTime time = new FakeTime();
  private MockRegistry registry;
  private RegistryClient client;
  private ImageRef repository;
  private String blobPath;

  @BeforeEach
  void start() throws IOException {
    registry = MockRegistry.start();
    client = RegistryClient.create(options().build());
    repository = registry.ref("app:1");
    blobPath = "/v2/app/blobs/" + DIGEST;
  }

  @AfterEach
  void stop() {
    client.close();
    registry.close();
  }

  private RegistryOptions.Builder options() {
    return RegistryOptions.builder()
        .hostsDirectory(null)
        .credentials(CredentialStore.ANONYMOUS)
        .clock(time)
        .sleeper(time)
        .jitter(() -> 0.5)
        .maxRetries(2)
        .minBackoff(Duration.ofMillis(100))
        .maxRetryAfter(Duration.ofSeconds(30));
  }

  private static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    new Random(42).nextBytes(bytes);
    return bytes;
  }

  /** Returns the RFC 9110 response to a range request for any part of {@link #BLOB}. */
  private static MockResponse serveRange(RecordedRequest request) {
    String range = request.getHeaders().get("Range");
    if (range == null) {
      return response(200, BLOB);
    }
    String[] bounds = range.substring("bytes=".length()).split("-", -1);
    int first = Integer.parseInt(bounds[0]);
    int last = bounds[1].isEmpty() ? BLOB.length - 1 : Integer.parseInt(bounds[1]);
    return response(
        206,
        Arrays.copyOfRange(BLOB, first, last + 1),
        "Content-Range",
        "bytes " + first + "-" + last + "/" + BLOB.length);
  }

  @Test
  void readBlobRange_sendsOneRangeAndAcceptsIdentity() throws IOException {
    registry.handle(BlobReadFaultTest::serveRange);

    byte[] bytes = client.readBlobRange(repository, DIGEST, 100, 50, BLOB.length);

    assertThat(bytes).isEqualTo(Arrays.copyOfRange(BLOB, 100, 150));
    RecordedRequest request = registry.requests().get(0);
    assertThat(request.getTarget()).isEqualTo(blobPath);
    assertThat(request.getHeaders().get("Range")).isEqualTo("bytes=100-149");
    assertThat(request.getHeaders().get("Accept-Encoding")).isEqualTo("identity");
    assertThat(request.getHeaders().get("User-Agent")).isEqualTo("jsoci");
  }

  @Test
  void readBlobRange_okWithWholeBlob() throws IOException {
    registry.handle(request -> response(200, BLOB));

    byte[] bytes = client.readBlobRange(repository, DIGEST, 600, 300, BLOB.length);

    assertThat(bytes).isEqualTo(Arrays.copyOfRange(BLOB, 600, 900));
    assertThat(registry.requests()).hasSize(1);
  }

  @Test
  void readBlobRange_okWithOffsetAboveLimit() throws IOException {
    client.close();
    client = RegistryClient.create(options().maxRangeSkipBytes(500).build());
    registry.handle(request -> response(200, BLOB));

    RegistryException e =
        assertThrows(
            RegistryException.class,
            () -> client.readBlobRange(repository, DIGEST, 600, 300, BLOB.length));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "blob "
                + DIGEST
                + " of "
                + repository.name()
                + ": the server ignored the Range"
                + " header, and skipping to offset 600 would discard more than the limit of 500"
                + " bytes: GET "
                + registry.url(blobPath)
                + " returned status 200");
    assertThat(registry.requests()).hasSize(1);
  }

  @Test
  void readBlobRange_rangeNotSatisfiable() {
    registry.handle(request -> response(416, "", "Content-Range", "bytes */1000"));

    RangeNotSatisfiableException e =
        assertThrows(
            RangeNotSatisfiableException.class,
            () -> client.readBlobRange(repository, DIGEST, 1000, 10, -1));

    assertThat(e.blobSize().getAsLong()).isEqualTo(1000);
    assertThat(e.statusCode()).isEqualTo(416);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "blob "
                + DIGEST
                + " of "
                + repository.name()
                + ": bytes=1000-1009 is not"
                + " satisfiable (blob size 1000 bytes): GET "
                + registry.url(blobPath)
                + " returned status 416");
    assertThat(registry.requests()).hasSize(1);
  }

  @Test
  void readBlobRange_wrongContentRange() {
    registry.handle(
        request ->
            response(206, Arrays.copyOfRange(BLOB, 0, 10), "Content-Range", "bytes 0-9/1000"));

    RegistryException e =
        assertThrows(
            RegistryException.class,
            () -> client.readBlobRange(repository, DIGEST, 10, 10, BLOB.length));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "blob "
                + DIGEST
                + " of "
                + repository.name()
                + ": the answer to bytes=10-19 has"
                + " Content-Range \"bytes 0-9/1000\", expected bytes 10-19/1000: GET "
                + registry.url(blobPath)
                + " returned status 206");
    assertThat(registry.requests()).hasSize(1);
  }

  @Test
  void readBlobRange_wrongTotal() {
    registry.handle(
        request ->
            response(206, Arrays.copyOfRange(BLOB, 0, 10), "Content-Range", "bytes 0-9/999"));

    RegistryException e =
        assertThrows(
            RegistryException.class,
            () -> client.readBlobRange(repository, DIGEST, 0, 10, BLOB.length));

    assertThat(e).hasMessageThat().contains("has Content-Range \"bytes 0-9/999\"");
  }

  @Test
  void readBlobRange_unavailableThenOk() throws IOException {
    AtomicInteger calls = new AtomicInteger();
    registry.handle(
        request -> calls.incrementAndGet() == 1 ? response(503, "busy") : serveRange(request));

    byte[] bytes = client.readBlobRange(repository, DIGEST, 0, 10, BLOB.length);

    assertThat(bytes).isEqualTo(Arrays.copyOfRange(BLOB, 0, 10));
    assertThat(registry.requests()).hasSize(2);
    // Full jitter at 0.5 of the first ceiling, minBackoff = 100 ms.
    assertThat(time.sleeps()).containsExactly(Duration.ofMillis(50));
  }

  @Test
  void readBlobRange_layerDataRetries_apply() throws IOException {
    client.close();
    client =
        RegistryClient.create(
            options()
                .maxRetries(0)
                .layerDataRetries(
                    new RetrySettings(3, Duration.ofMillis(40), Duration.ofMillis(40)))
                .build());
    AtomicInteger calls = new AtomicInteger();
    registry.handle(
        request -> calls.incrementAndGet() <= 3 ? response(503, "busy") : serveRange(request));

    byte[] bytes = client.readBlobRange(repository, DIGEST, 0, 10, BLOB.length);

    assertThat(bytes).isEqualTo(Arrays.copyOfRange(BLOB, 0, 10));
    assertThat(registry.requests()).hasSize(4);
    // Full jitter at 0.5 of a ceiling that the 40 ms maximum caps.
    assertThat(time.sleeps())
        .containsExactly(Duration.ofMillis(20), Duration.ofMillis(20), Duration.ofMillis(20));
  }

  @Test
  void readBlob_wholeBlob_keepsTheGeneralRetries() {
    client.close();
    client =
        RegistryClient.create(
            options()
                .maxRetries(0)
                .layerDataRetries(
                    new RetrySettings(3, Duration.ofMillis(40), Duration.ofMillis(40)))
                .build());
    registry.handle(request -> response(503, "busy"));

    assertThrows(RegistryException.class, () -> client.readBlob(repository, DESCRIPTOR));

    assertThat(registry.requests()).hasSize(1);
    assertThat(time.sleeps()).isEmpty();
  }

  @Test
  void readBlobRange_tooManyRequests() throws IOException {
    AtomicInteger calls = new AtomicInteger();
    registry.handle(
        request ->
            calls.incrementAndGet() == 1
                ? response(429, "", "Retry-After", "7")
                : serveRange(request));

    client.readBlobRange(repository, DIGEST, 0, 10, BLOB.length);

    assertThat(time.sleeps()).containsExactly(Duration.ofSeconds(7));
    assertThat(registry.requests()).hasSize(2);
  }

  @Test
  void readBlobRange_retryAfterDate() throws IOException {
    String inTwelveSeconds =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            time.instant().plusSeconds(12).atOffset(ZoneOffset.UTC));
    AtomicInteger calls = new AtomicInteger();
    registry.handle(
        request -> {
          switch (calls.incrementAndGet()) {
            case 1:
              return response(429, "", "Retry-After", inTwelveSeconds);
            case 2:
              return response(503, "", "Retry-After", "3600");
            default:
              return serveRange(request);
          }
        });

    client.readBlobRange(repository, DIGEST, 0, 10, BLOB.length);

    assertThat(time.sleeps()).containsExactly(Duration.ofSeconds(12), Duration.ofSeconds(30));
  }

  @Test
  void readBlobRange_alwaysUnavailable() {
    registry.handle(
        request ->
            response(503, "{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"try later\"}]}"));

    RegistryException e =
        assertThrows(
            RegistryException.class,
            () -> client.readBlobRange(repository, DIGEST, 0, 10, BLOB.length));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "giving up after 3 attempts: GET "
                + registry.url(blobPath)
                + " returned status 503 (UNAVAILABLE: try later)");
    assertThat(e.statusCode()).isEqualTo(503);
    assertThat(registry.requests()).hasSize(3);
    assertThat(time.sleeps()).containsExactly(Duration.ofMillis(50), Duration.ofMillis(100));
  }

  @Test
  void readBlobRange_notImplemented() {
    registry.handle(request -> response(501, ""));

    RegistryException e =
        assertThrows(
            RegistryException.class,
            () -> client.readBlobRange(repository, DIGEST, 0, 10, BLOB.length));

    assertThat(e.statusCode()).isEqualTo(501);
    assertThat(registry.requests()).hasSize(1);
  }

  @Test
  void readBlobRange_retryBudgetExhausted() {
    client.close();
    client =
        RegistryClient.create(
            options().maxRetries(5).maxRetryDuration(Duration.ofSeconds(10)).build());
    registry.handle(request -> response(429, "", "Retry-After", "8"));

    RegistryException e =
        assertThrows(
            RegistryException.class,
            () -> client.readBlobRange(repository, DIGEST, 0, 10, BLOB.length));

    assertThat(e).hasMessageThat().startsWith("giving up after 2 attempts: GET");
    assertThat(time.sleeps()).containsExactly(Duration.ofSeconds(8));
  }

  @Test
  void readBlobRange_connectionRefused() throws IOException {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      closedPort = socket.getLocalPort();
    }
    ImageRef unreachable = ImageRef.parse("127.0.0.1:" + closedPort + "/app:1");

    RegistryException e =
        assertThrows(
            RegistryException.class,
            () -> client.readBlobRange(unreachable, DIGEST, 0, 10, BLOB.length));

    assertThat(e)
        .hasMessageThat()
        .startsWith(
            "GET http://127.0.0.1:"
                + closedPort
                + "/v2/app/blobs/"
                + DIGEST
                + " failed after 3 attempts: java.net.ConnectException");
    assertThat(time.sleeps()).hasSize(2);
  }

  @Test
  void readBlobRange_connectionResetMidBody() throws IOException {
    AtomicInteger calls = new AtomicInteger();
    registry.handle(
        request -> {
          MockResponse range = serveRange(request);
          if (calls.incrementAndGet() > 1) {
            return range;
          }
          return range.newBuilder().onResponseBody(new SocketEffect.CloseSocket()).build();
        });

    byte[] bytes = client.readBlobRange(repository, DIGEST, 0, 800, BLOB.length);

    assertThat(bytes).isEqualTo(Arrays.copyOfRange(BLOB, 0, 800));
    assertThat(registry.requests()).hasSize(2);
    assertThat(registry.requests().get(1).getHeaders().get("Range")).isEqualTo("bytes=0-799");
  }

  @Test
  void newBlobStream_connectionResetMidBody() throws IOException {
    AtomicInteger calls = new AtomicInteger();
    registry.handle(
        request -> {
          MockResponse answer = serveRange(request);
          if (calls.incrementAndGet() > 1) {
            return answer;
          }
          return answer.newBuilder().onResponseBody(new SocketEffect.CloseSocket()).build();
        });

    byte[] bytes;
    try (InputStream in = client.newBlobStream(repository, DESCRIPTOR)) {
      bytes = in.readAllBytes();
    }

    assertThat(bytes).isEqualTo(BLOB);
    List<RecordedRequest> requests = registry.requests();
    assertThat(requests).hasSize(2);
    assertThat(requests.get(0).getHeaders().get("Range")).isNull();
    assertThat(requests.get(1).getHeaders().get("Range")).matches("bytes=[1-9][0-9]*-");
  }

  @Test
  void newBlobStream_resetEveryTime() throws IOException {
    registry.handle(
        request ->
            serveRange(request)
                .newBuilder()
                .onResponseBody(new SocketEffect.CloseSocket())
                .build());

    IOException e;
    try (InputStream in = client.newBlobStream(repository, DESCRIPTOR)) {
      e = assertThrows(IOException.class, in::readAllBytes);
    }

    assertThat(e).isInstanceOf(RegistryException.class);
    assertThat(e)
        .hasMessageThat()
        .matches(
            "blob "
                + DIGEST
                + " of "
                + repository.name().replace(".", "\\.")
                + ": reading failed at byte [0-9]+ of 1000 after 3 attempts: .*");
    assertThat(registry.requests()).hasSize(3);
  }

  @Test
  void newBlobStream_wrongContent() throws IOException {
    byte[] corrupt = BLOB.clone();
    corrupt[500] ^= 1;
    registry.handle(request -> response(200, corrupt));

    DigestMismatchException e;
    try (InputStream in = client.newBlobStream(repository, DESCRIPTOR)) {
      e = assertThrows(DigestMismatchException.class, in::readAllBytes);
    }

    assertThat(e.expected()).isEqualTo(DIGEST);
    assertThat(e.actual()).isEqualTo(Digest.sha256Of(corrupt));
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "blob "
                + DIGEST
                + " of "
                + repository.name()
                + ": digest mismatch, expected "
                + DIGEST
                + ", actual "
                + Digest.sha256Of(corrupt));
  }

  @Test
  void readBlob_wrongContent() {
    byte[] corrupt = BLOB.clone();
    corrupt[0] ^= 1;
    registry.handle(request -> response(200, corrupt));

    DigestMismatchException e =
        assertThrows(DigestMismatchException.class, () -> client.readBlob(repository, DESCRIPTOR));

    assertThat(e.actual()).isEqualTo(Digest.sha256Of(corrupt));
    assertThat(registry.requests()).hasSize(1);
  }

  @Test
  void readBlob_notFound() {
    registry.handle(
        request ->
            response(
                404,
                "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to"
                    + " registry\"}]}"));

    BlobNotFoundException e =
        assertThrows(BlobNotFoundException.class, () -> client.readBlob(repository, DESCRIPTOR));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "blob "
                + DIGEST
                + " of "
                + repository.name()
                + " not found: GET "
                + registry.url(blobPath)
                + " returned status 404 (BLOB_UNKNOWN: blob unknown to registry)");
    assertThat(e.errors())
        .containsExactly(new RegistryError("BLOB_UNKNOWN", "blob unknown to registry"));
  }
}
