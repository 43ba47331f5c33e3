package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fetcher.registry.MockRegistry.response;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bearer (RFC 6750) and Basic (RFC 7617) authentication against a MockWebServer that plays both the
 * registry and its authorization server.
 */
class AuthenticationTest {
  private static final String MANIFEST =
      "{\"schemaVersion\":2,\"mediaType\":\""
          + MediaType.OCI_MANIFEST
          + "\",\"config\":{"
          + "\"mediaType\":\""
          + MediaType.OCI_CONFIG
          + "\",\"digest\":\""
          + Digest.sha256Of(new byte[0])
          + "\",\"size\":0},\"layers\":[]}";

  private final FakeTime time = new FakeTime();
  private MockRegistry registry;
  private RegistryClient client;

  /** Token values the authorization server has issued, to their scope. */
  private final Map<String, String> issued = new ConcurrentHashMap<>();

  private final AtomicInteger tokensIssued = new AtomicInteger();

  @BeforeEach
  void start() throws IOException {
    registry = MockRegistry.start();
  }

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    registry.close();
  }

  private void createClient(CredentialStore credentials) {
    createClient(credentials, null);
  }

  private void createClient(CredentialStore credentials, @Nullable Duration authLifetime) {
    client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(null)
                .credentials(credentials)
                .clock(time)
                .sleeper(time)
                .maxRetries(1)
                .authLifetime(authLifetime)
                .build());
  }

  private String challenge(String repository) {
    return "Bearer realm=\""
        + registry.url("/token")
        + "\",service=\"mock-registry\","
        + "scope=\"repository:"
        + repository
        + ":pull\"";
  }

  /** Returns the registry's response: 200 for a bearer value in {@link #issued}, else 401. */
  private MockResponse registryAnswer(RecordedRequest request) {
    String path = request.getUrl().encodedPath();
    String repository = path.substring("/v2/".length(), path.indexOf("/manifests/"));
    String authorization = request.getHeaders().get("Authorization");
    if (authorization == null || !issued.containsKey(authorization.substring("Bearer ".length()))) {
      return response(401, "", "WWW-Authenticate", challenge(repository));
    }
    return response(200, MANIFEST, "Content-Type", MediaType.OCI_MANIFEST);
  }

  private MockResponse tokenAnswer(RecordedRequest request, int expiresIn) {
    String token = "token-" + tokensIssued.incrementAndGet();
    HttpUrl url = request.getUrl();
    issued.put(token, String.join(" ", url.queryParameterValues("scope").toString()));
    return response(
        200,
        "{\"token\":\"" + token + "\",\"expires_in\":" + expiresIn + "}",
        "Content-Type",
        "application/json");
  }

  private void serveAnonymous(int expiresIn) {
    registry.handle(
        request ->
            request.getUrl().encodedPath().equals("/token")
                ? tokenAnswer(request, expiresIn)
                : registryAnswer(request));
  }

  @Test
  void fetchManifest_bearerChallenge() throws IOException {
    createClient(CredentialStore.ANONYMOUS);
    serveAnonymous(300);

    client.fetchManifest(registry.ref("app:1"));

    List<RecordedRequest> requests = registry.requests();
    assertThat(registry.requestLines())
        .containsExactly(
            "GET /v2/app/manifests/1",
            "GET /token?service=mock-registry&scope=repository%3Aapp%3Apull",
            "GET /v2/app/manifests/1")
        .inOrder();
    assertThat(requests.get(0).getHeaders().get("Authorization")).isNull();
    assertThat(requests.get(1).getHeaders().get("Authorization")).isNull();
    assertThat(requests.get(2).getHeaders().get("Authorization")).isEqualTo("Bearer token-1");
  }

  @Test
  void fetchManifest_sameScope() throws IOException {
    createClient(CredentialStore.ANONYMOUS);
    serveAnonymous(300);

    client.fetchManifest(registry.ref("app:1"));
    client.fetchManifest(registry.ref("app:2"));
    client.fetchManifest(registry.ref("other:1"));

    assertThat(registry.requestLines())
        .containsExactly(
            "GET /v2/app/manifests/1",
            "GET /token?service=mock-registry&scope=repository%3Aapp%3Apull",
            "GET /v2/app/manifests/1",
            "GET /v2/app/manifests/2",
            "GET /token?service=mock-registry&scope=repository%3Aother%3Apull"
                + "&scope=repository%3Aapp%3Apull",
            "GET /v2/other/manifests/1")
        .inOrder();
    assertThat(registry.requests().get(3).getHeaders().get("Authorization"))
        .isEqualTo("Bearer token-1");
    assertThat(registry.requests().get(5).getHeaders().get("Authorization"))
        .isEqualTo("Bearer token-2");
  }

  @Test
  void fetchManifest_expiredToken() throws IOException {
    createClient(CredentialStore.ANONYMOUS);
    serveAnonymous(60);
    client.fetchManifest(registry.ref("app:1"));

    time.advance(Duration.ofSeconds(55));
    client.fetchManifest(registry.ref("app:1"));

    assertThat(tokensIssued.get()).isEqualTo(2);
    assertThat(registry.requests().get(4).getHeaders().get("Authorization"))
        .isEqualTo("Bearer token-2");
  }

  @Test
  void fetchManifest_identityToken() throws IOException {
    createClient(host -> Optional.of(Credentials.identityToken("refresh-secret")));
    registry.handle(
        request -> {
          if (request.getUrl().encodedPath().equals("/token")) {
            issued.put("access-1", "");
            return response(200, "{\"access_token\":\"access-1\",\"expires_in\":300}");
          }
          return registryAnswer(request);
        });

    client.fetchManifest(registry.ref("app:1"));

    RecordedRequest tokenRequest = registry.requests().get(1);
    assertThat(tokenRequest.getMethod()).isEqualTo("POST");
    assertThat(tokenRequest.getHeaders().get("Content-Type"))
        .isEqualTo("application/x-www-form-urlencoded");
    assertThat(tokenRequest.getBody().utf8())
        .isEqualTo(
            "grant_type=refresh_token&refresh_token=refresh-secret&service=mock-registry"
                + "&client_id=jsoci&scope=repository%3Aapp%3Apull");
    assertThat(registry.requests().get(2).getHeaders().get("Authorization"))
        .isEqualTo("Bearer access-1");
  }

  @Test
  void fetchManifest_passwordGrantNotSupported() throws IOException {
    createClient(host -> Optional.of(new Credentials("alice", "s3cret")));
    registry.handle(
        request -> {
          if (!request.getUrl().encodedPath().equals("/token")) {
            return registryAnswer(request);
          }
          if (request.getMethod().equals("POST")) {
            return response(404, "");
          }
          return tokenAnswer(request, 300);
        });

    client.fetchManifest(registry.ref("app:1"));

    assertThat(registry.requestLines())
        .containsExactly(
            "GET /v2/app/manifests/1",
            "POST /token",
            "GET /token?service=mock-registry&scope=repository%3Aapp%3Apull",
            "GET /v2/app/manifests/1")
        .inOrder();
    assertThat(registry.requests().get(1).getBody().utf8())
        .isEqualTo(
            "grant_type=password&username=alice&password=s3cret&service=mock-registry"
                + "&client_id=jsoci&scope=repository%3Aapp%3Apull");
    String basic =
        Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8));
    assertThat(registry.requests().get(2).getHeaders().get("Authorization"))
        .isEqualTo("Basic " + basic);
  }

  @Test
  void fetchManifest_forbiddenNearExpiry() throws IOException {
    createClient(CredentialStore.ANONYMOUS);
    AtomicInteger forbidden = new AtomicInteger();
    registry.handle(
        request -> {
          if (request.getUrl().encodedPath().equals("/token")) {
            return tokenAnswer(request, 60);
          }
          // The registry's clock runs ahead: it rejects token-1 with a 403 once it is 47 s old.
          String authorization = request.getHeaders().get("Authorization");
          if ("Bearer token-1".equals(authorization) && forbidden.get() == 1) {
            forbidden.incrementAndGet();
            return response(403, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"denied\"}]}");
          }
          return registryAnswer(request);
        });
    client.fetchManifest(registry.ref("app:1"));
    forbidden.set(1);

    time.advance(Duration.ofSeconds(47));
    client.fetchManifest(registry.ref("app:1"));

    assertThat(registry.requestLines())
        .containsExactly(
            "GET /v2/app/manifests/1",
            "GET /token?service=mock-registry&scope=repository%3Aapp%3Apull",
            "GET /v2/app/manifests/1",
            "GET /v2/app/manifests/1",
            "GET /token?service=mock-registry&scope=repository%3Aapp%3Apull",
            "GET /v2/app/manifests/1")
        .inOrder();
    assertThat(registry.requests().get(5).getHeaders().get("Authorization"))
        .isEqualTo("Bearer token-2");
  }

  @Test
  void fetchManifest_forbiddenWithFreshToken() throws IOException {
    createClient(CredentialStore.ANONYMOUS);
    AtomicInteger calls = new AtomicInteger();
    registry.handle(
        request -> {
          if (request.getUrl().encodedPath().equals("/token")) {
            return tokenAnswer(request, 60);
          }
          if (request.getHeaders().get("Authorization") != null && calls.incrementAndGet() > 1) {
            return response(403, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"denied\"}]}");
          }
          return registryAnswer(request);
        });
    client.fetchManifest(registry.ref("app:1"));
    time.advance(Duration.ofSeconds(1));
    ImageRef image = registry.ref("app:1");

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> client.fetchManifest(image));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "cannot read manifest "
                + image
                + ": GET "
                + registry.url("/v2/app/manifests/1")
                + " returned status 403 (DENIED: denied); run docker login "
                + registry.host()
                + " or set credentials in DOCKER_CONFIG");
    assertThat(tokensIssued.get()).isEqualTo(1);
    assertThat(registry.requests()).hasSize(4);
  }

  @Test
  void fetchManifest_forbiddenWithExpiredMessage() throws IOException {
    createClient(CredentialStore.ANONYMOUS);
    AtomicInteger calls = new AtomicInteger();
    registry.handle(
        request -> {
          if (request.getUrl().encodedPath().equals("/token")) {
            return tokenAnswer(request, 3600);
          }
          if ("Bearer token-1".equals(request.getHeaders().get("Authorization"))
              && calls.incrementAndGet() == 2) {
            return response(
                403,
                "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"Your authorization token has"
                    + " expired. Reauthenticate and try again.\"}]}");
          }
          return registryAnswer(request);
        });
    client.fetchManifest(registry.ref("app:1"));

    client.fetchManifest(registry.ref("app:1"));

    assertThat(tokensIssued.get()).isEqualTo(2);
    assertThat(registry.requests().get(5).getHeaders().get("Authorization"))
        .isEqualTo("Bearer token-2");
  }

  @Test
  void fetchManifest_tokenRejectedAgain() {
    createClient(CredentialStore.ANONYMOUS);
    registry.handle(
        request ->
            request.getUrl().encodedPath().equals("/token")
                ? tokenAnswer(request, 300)
                : response(
                    401,
                    "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication"
                        + " required\"}]}",
                    "WWW-Authenticate",
                    challenge("app")));
    ImageRef image = registry.ref("app:1");

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> client.fetchManifest(image));

    assertThat(e.statusCode()).isEqualTo(401);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "cannot read manifest "
                + image
                + ": GET "
                + registry.url("/v2/app/manifests/1")
                + " returned status 401 (UNAUTHORIZED: authentication required); run docker"
                + " login "
                + registry.host()
                + " or set credentials in DOCKER_CONFIG");
    assertThat(registry.requests()).hasSize(3);
  }

  @Test
  void fetchManifest_basicChallengeWithoutCredentials() {
    createClient(CredentialStore.ANONYMOUS);
    registry.handle(request -> response(401, "", "WWW-Authenticate", "Basic realm=\"private\""));
    ImageRef image = registry.ref("app:1");

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> client.fetchManifest(image));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "registry host "
                + registry.host()
                + " requires a user name and password (basic"
                + " realm=\"private\"); run docker login "
                + registry.host()
                + " or set credentials in DOCKER_CONFIG");
    assertThat(registry.requests()).hasSize(1);
  }

  @Test
  void authLifetime_basicCredentials_readAgainAfterIt() throws IOException {
    AtomicReference<String> password = new AtomicReference<>("old");
    createClient(host -> Optional.of(new Credentials("bob", password.get())), Duration.ofHours(1));
    registry.handle(
        request ->
            request.getHeaders().get("Authorization") != null
                ? response(200, MANIFEST, "Content-Type", MediaType.OCI_MANIFEST)
                : response(401, "", "WWW-Authenticate", "Basic realm=\"private\""));
    client.fetchManifest(registry.ref("app:1"));
    password.set("new");

    client.fetchManifest(registry.ref("app:2"));
    time.advance(Duration.ofMinutes(61));
    client.fetchManifest(registry.ref("app:3"));

    assertThat(registry.requests()).hasSize(4);
    assertThat(registry.requests().get(2).getHeaders().get("Authorization"))
        .isEqualTo(basic("bob:old"));
    assertThat(registry.requests().get(3).getHeaders().get("Authorization"))
        .isEqualTo(basic("bob:new"));
  }

  @Test
  void authLifetime_longToken_renewedAfterIt() throws IOException {
    createClient(CredentialStore.ANONYMOUS, Duration.ofHours(1));
    serveAnonymous(12 * 3600);
    client.fetchManifest(registry.ref("app:1"));

    time.advance(Duration.ofMinutes(59));
    client.fetchManifest(registry.ref("app:1"));
    time.advance(Duration.ofMinutes(2));
    client.fetchManifest(registry.ref("app:1"));

    assertThat(tokensIssued.get()).isEqualTo(2);
    assertThat(registry.requests().get(3).getHeaders().get("Authorization"))
        .isEqualTo("Bearer token-1");
    assertThat(registry.requests().get(5).getHeaders().get("Authorization"))
        .isEqualTo("Bearer token-2");
  }

  private static String basic(String userAndPassword) {
    return "Basic " + Base64.getEncoder().encodeToString(userAndPassword.getBytes(UTF_8));
  }

  @Test
  void fetchManifest_basicChallenge() throws IOException {
    createClient(host -> Optional.of(new Credentials("bob", "pw")));
    String expected =
        "Basic " + Base64.getEncoder().encodeToString("bob:pw".getBytes(StandardCharsets.UTF_8));
    registry.handle(
        request ->
            expected.equals(request.getHeaders().get("Authorization"))
                ? response(200, MANIFEST, "Content-Type", MediaType.OCI_MANIFEST)
                : response(401, "", "WWW-Authenticate", "Basic realm=\"private\""));

    client.fetchManifest(registry.ref("app:1"));
    client.fetchManifest(registry.ref("app:2"));

    assertThat(registry.requests()).hasSize(3);
    assertThat(registry.requests().get(2).getHeaders().get("Authorization")).isEqualTo(expected);
  }

  @Test
  void fetchManifest_concurrentChallenges() throws Exception {
    createClient(CredentialStore.ANONYMOUS);
    serveAnonymous(300);
    client.fetchManifest(registry.ref("warm:1"));
    int threads = 8;
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(threads);
    java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
    List<java.util.concurrent.Future<ManifestContent>> results = new java.util.ArrayList<>();

    try {
      for (int i = 0; i < threads; i++) {
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  return client.fetchManifest(registry.ref("shared:1"));
                }));
      }
      start.countDown();
      for (java.util.concurrent.Future<ManifestContent> result : results) {
        result.get(30, java.util.concurrent.TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }

    long sharedTokenRequests =
        registry.requestLines().stream()
            .filter(line -> line.startsWith("GET /token") && line.contains("shared"))
            .count();
    assertThat(sharedTokenRequests).isEqualTo(1);
  }

  @Test
  void fetchManifest_unsupportedScheme() {
    createClient(CredentialStore.ANONYMOUS);
    registry.handle(request -> response(401, "", "WWW-Authenticate", "Negotiate abc=="));
    ImageRef image = registry.ref("app:1");

    AuthenticationException e =
        assertThrows(AuthenticationException.class, () -> client.fetchManifest(image));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "registry host "
                + registry.host()
                + " asks for the unsupported authentication"
                + " scheme negotiate; only Bearer and Basic are supported");
  }
}
