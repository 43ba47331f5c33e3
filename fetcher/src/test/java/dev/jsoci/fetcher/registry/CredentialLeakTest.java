package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.jsoci.fetcher.registry.MockRegistry.response;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Drives the registry token flows and a cross-host redirect to a signed URL with every logger at
 * TRACE, then checks that no log line and no exception message contains a credential or a query
 * value of the signed URL. The registry runs on 127.0.0.1, the object store on 127.0.0.2.
 */
class CredentialLeakTest {
  private static final byte[] BLOB = randomBytes(4096);
  private static final Digest DIGEST = Digest.sha256Of(BLOB);

  private static final String USER = "alice";
  private static final String PASSWORD = "pw-Xq93kLmZ7";
  private static final String REFRESH_TOKEN = "rt-Hv72PpQs1";
  private static final String ISSUED_REFRESH_TOKEN = "rt-issued-Wn48Zc";
  private static final String ACCESS_TOKEN_PREFIX = "at-Jd61Rb";
  private static final String SIGNATURE = "sig-Fa55Kc2e";
  private static final String AMZ_CREDENTIAL = "AKIAEXAMPLE7/20260101/us-east-1/s3/aws4_request";
  private static final String SESSION_TOKEN = "st-Lp08Yt";

  /** A keyword that introduces a credential, followed by something other than "redacted". */
  private static final Pattern KEYWORD_WITH_VALUE =
      Pattern.compile(
          "(?i)(password|passwd|secret|credential|token|api[_-]?key)\\s*[=:]\\s*"
              + "(?!redacted)([^\\s&,;\"')]+)");

  private static final Pattern AUTHORIZATION_VALUE =
      Pattern.compile("(?i)(bearer [a-z0-9]|authorization: basic|basic [a-z0-9+/]{8,}={0,2})");

  private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
  private final List<String> julRecords = new CopyOnWriteArrayList<>();
  private final AtomicInteger tokensIssued = new AtomicInteger();
  private final FakeTime time = new FakeTime();

  private ListAppender<ILoggingEvent> appender;
  private Level previousLevel;
  private Handler julHandler;
  private java.util.logging.Level previousJulLevel;
  private MockRegistry registry;
  private MockRegistry objectStore;
  private RegistryClient client;

  @BeforeEach
  void start() throws IOException {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    previousLevel = root.getLevel();
    root.setLevel(Level.TRACE);
    appender =
        new ListAppender<>() {
          @Override
          protected void append(ILoggingEvent event) {
            events.add(event);
          }
        };
    appender.start();
    root.addAppender(appender);

    // okhttp logs through java.util.logging.
    java.util.logging.Logger julRoot = LogManager.getLogManager().getLogger("");
    previousJulLevel = julRoot.getLevel();
    julRoot.setLevel(java.util.logging.Level.ALL);
    julHandler =
        new Handler() {
          @Override
          public void publish(LogRecord record) {
            // MockWebServer logs each request line it receives, signed query included. That
            // is the test's server, not jsoci.
            String name = record.getLoggerName();
            if (name == null || !name.startsWith("mockwebserver3")) {
              julRecords.add(record.getMessage() + " " + record.getThrown());
            }
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    julHandler.setLevel(java.util.logging.Level.ALL);
    julRoot.addHandler(julHandler);

    registry = MockRegistry.start("127.0.0.1");
    objectStore = MockRegistry.start("127.0.0.2");
  }

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    registry.close();
    objectStore.close();
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.detachAppender(appender);
    root.setLevel(previousLevel);
    java.util.logging.Logger julRoot = LogManager.getLogManager().getLogger("");
    julRoot.removeHandler(julHandler);
    julRoot.setLevel(previousJulLevel);
  }

  private void createClient(CredentialStore credentials) {
    client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(null)
                .credentials(credentials)
                .clock(time)
                .sleeper(time)
                .maxRetries(1)
                .blobLocationTtl(Duration.ofMinutes(5))
                .build());
  }

  private static byte[] randomBytes(int size) {
    byte[] bytes = new byte[size];
    new Random(11).nextBytes(bytes);
    return bytes;
  }

  private static String basicHeader() {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
  }

  private String signedUrl() {
    return objectStore.url(
        "/bucket/blob?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            + "&X-Amz-Credential="
            + AMZ_CREDENTIAL.replace("/", "%2F")
            + "&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900"
            + "&X-Amz-Security-Token="
            + SESSION_TOKEN
            + "&X-Amz-Signature="
            + SIGNATURE);
  }

  /** Every value that must never appear in a log line or an exception message. */
  private List<String> secrets() {
    return List.of(
        PASSWORD,
        REFRESH_TOKEN,
        ISSUED_REFRESH_TOKEN,
        ACCESS_TOKEN_PREFIX,
        basicHeader().substring("Basic ".length()),
        SIGNATURE,
        "AKIAEXAMPLE7",
        SESSION_TOKEN,
        "X-Amz-Date=20260101T000000Z",
        "AWS4-HMAC-SHA256");
  }

  /**
   * Serves a registry whose blobs need a Bearer token from {@code /token} and redirect to a signed
   * URL. The token endpoint takes the OAuth2 password or refresh-token form, or a GET with Basic
   * credentials; {@code brokenTokenAnswer} makes it return invalid JSON that contains a token.
   */
  private void serveBearerRegistry(AtomicBoolean brokenTokenAnswer) {
    String challenge =
        "Bearer realm=\""
            + registry.url("/token")
            + "\",service=\"mock\",scope=\"repository:app:pull\"";
    registry.handle(
        request -> {
          String path = request.getUrl().encodedPath();
          if (path.equals("/token")) {
            return tokenAnswer(request, brokenTokenAnswer.get());
          }
          String authorization = request.getHeaders().get("Authorization");
          if (authorization == null || !authorization.startsWith("Bearer " + ACCESS_TOKEN_PREFIX)) {
            return response(401, "", "WWW-Authenticate", challenge);
          }
          return response(307, "", "Location", signedUrl());
        });
  }

  private MockResponse tokenAnswer(RecordedRequest request, boolean broken) {
    boolean accepted;
    if (request.getMethod().equals("POST")) {
      String form = request.getBody().utf8();
      accepted =
          form.contains("refresh_token=" + REFRESH_TOKEN)
              || form.contains("password=" + PASSWORD);
    } else {
      accepted = basicHeader().equals(request.getHeaders().get("Authorization"));
    }
    if (!accepted) {
      return response(401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"denied\"}]}");
    }
    String token = ACCESS_TOKEN_PREFIX + "-" + tokensIssued.incrementAndGet();
    if (broken) {
      return response(200, "{\"token\": " + token + ", \"refresh_token\": " + ISSUED_REFRESH_TOKEN);
    }
    return response(
        200,
        "{\"token\":\""
            + token
            + "\",\"refresh_token\":\""
            + ISSUED_REFRESH_TOKEN
            + "\",\"expires_in\":60}",
        "Content-Type",
        "application/json");
  }

  private MockResponse serveRange(RecordedRequest request, boolean allow) {
    if (!allow || !SIGNATURE.equals(request.getUrl().queryParameter("X-Amz-Signature"))) {
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

  /** Reads, renews the token, then makes the object store and the token endpoint fail. */
  private List<String> driveFlows(ImageRef repository) throws IOException {
    AtomicBoolean storeAllows = new AtomicBoolean(true);
    AtomicBoolean brokenTokenAnswer = new AtomicBoolean(false);
    serveBearerRegistry(brokenTokenAnswer);
    objectStore.handle(request -> serveRange(request, storeAllows.get()));
    List<String> exceptionTexts = new ArrayList<>();

    byte[] first = client.readBlobRange(repository, DIGEST, 0, 100, BLOB.length);
    assertThat(first).isEqualTo(Arrays.copyOfRange(BLOB, 0, 100));

    // Past the remembered location and the token's renewal time: both are fetched again.
    time.advance(Duration.ofMinutes(6));
    byte[] second = client.readBlobRange(repository, DIGEST, 100, 100, BLOB.length);
    assertThat(second).isEqualTo(Arrays.copyOfRange(BLOB, 100, 200));

    storeAllows.set(false);
    IOException denied =
        assertThrows(
            IOException.class, () -> client.readBlobRange(repository, DIGEST, 0, 10, BLOB.length));
    exceptionTexts.add(describe(denied));

    storeAllows.set(true);
    brokenTokenAnswer.set(true);
    time.advance(Duration.ofMinutes(6));
    IOException invalidAnswer =
        assertThrows(
            IOException.class, () -> client.readBlobRange(repository, DIGEST, 0, 10, BLOB.length));
    exceptionTexts.add(describe(invalidAnswer));
    return exceptionTexts;
  }

  @Test
  void passwordGrant_leaksNoSecret() throws IOException {
    createClient(host -> Optional.of(new Credentials(USER, PASSWORD)));

    List<String> exceptionTexts = driveFlows(registry.ref("app:1"));

    assertThat(tokensIssued.get()).isAtLeast(2);
    assertNoSecrets(exceptionTexts);
  }

  @Test
  void refreshTokenGrant_leaksNoSecret() throws IOException {
    createClient(host -> Optional.of(Credentials.identityToken(REFRESH_TOKEN)));

    List<String> exceptionTexts = driveFlows(registry.ref("app:1"));

    RecordedRequest tokenRequest = registry.requests().get(1);
    assertThat(tokenRequest.getBody().utf8()).contains("grant_type=refresh_token");
    assertNoSecrets(exceptionTexts);
  }

  @Test
  void basicChallenge_leaksNoSecret() throws IOException {
    createClient(host -> Optional.of(new Credentials(USER, PASSWORD)));
    registry.handle(
        request -> {
          if (!basicHeader().equals(request.getHeaders().get("Authorization"))) {
            return response(401, "", "WWW-Authenticate", "Basic realm=\"registry\"");
          }
          return response(307, "", "Location", signedUrl());
        });
    AtomicBoolean storeAllows = new AtomicBoolean(true);
    objectStore.handle(request -> serveRange(request, storeAllows.get()));

    byte[] bytes = client.readBlobRange(registry.ref("app:1"), DIGEST, 0, 50, BLOB.length);
    storeAllows.set(false);
    IOException denied =
        assertThrows(
            IOException.class,
            () -> client.readBlobRange(registry.ref("app:1"), DIGEST, 50, 50, BLOB.length));

    assertThat(bytes).isEqualTo(Arrays.copyOfRange(BLOB, 0, 50));
    assertThat(objectStore.requests().get(0).getHeaders().get("Authorization")).isNull();
    assertNoSecrets(List.of(describe(denied)));
  }

  @Test
  void wrongPassword_messageNamesHostOnly() {
    createClient(host -> Optional.of(new Credentials(USER, "wrong-" + PASSWORD)));
    serveBearerRegistry(new AtomicBoolean(false));

    IOException e =
        assertThrows(
            IOException.class,
            () -> client.readBlobRange(registry.ref("app:1"), DIGEST, 0, 10, BLOB.length));

    assertThat(e).hasMessageThat().contains(registry.host());
    assertNoSecrets(List.of(describe(e)));
  }

  /** Returns the text of an exception, of its causes and of its suppressed exceptions. */
  private static String describe(Throwable error) {
    StringBuilder text = new StringBuilder();
    List<Throwable> pending = new ArrayList<>(List.of(error));
    while (!pending.isEmpty()) {
      Throwable next = pending.remove(0);
      text.append(next).append('\n');
      if (next.getCause() != null) {
        pending.add(next.getCause());
      }
      pending.addAll(Arrays.asList(next.getSuppressed()));
    }
    return text.toString();
  }

  private void assertNoSecrets(List<String> exceptionTexts) {
    List<String> lines = new ArrayList<>(exceptionTexts);
    for (ILoggingEvent event : events) {
      StringBuilder line = new StringBuilder(event.getFormattedMessage());
      if (event.getKeyValuePairs() != null) {
        event.getKeyValuePairs().forEach(pair -> line.append(' ').append(pair));
      }
      for (IThrowableProxy proxy = event.getThrowableProxy();
          proxy != null;
          proxy = proxy.getCause()) {
        line.append(' ').append(proxy.getClassName()).append(": ").append(proxy.getMessage());
      }
      lines.add(line.toString());
    }
    lines.addAll(julRecords);
    assertWithMessage("captured log lines").that(events).isNotEmpty();

    for (String line : lines) {
      for (String secret : secrets()) {
        assertWithMessage("line contains %s", secret).that(line).doesNotContain(secret);
      }
      Matcher keyword = KEYWORD_WITH_VALUE.matcher(line);
      assertWithMessage("credential keyword with a value in: %s", line)
          .that(keyword.find())
          .isFalse();
      assertWithMessage("authorization value in: %s", line)
          .that(AUTHORIZATION_VALUE.matcher(line).find())
          .isFalse();
    }
  }
}
