package dev.jsoci.fetcher.registry;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Responds to registry authentication challenges and caches the resulting {@code Authorization}
 * values per host and scope.
 *
 * <h2>Flow</h2>
 *
 * <ol>
 *   <li>A request goes out with the cached value for its host and scope. Once a host has sent a
 *       challenge, a request for a new scope gets its value before it is sent.
 *   <li>A {@code 401} response, or a {@code 403} while the value sent is near its expiry (or whose
 *       body says the authorization has expired, as ECR does), leads to one new value and one
 *       resend. A second rejection is returned to the caller.
 *   <li>{@code Basic} challenges (RFC 7617) are answered with the user name and password of the
 *       credential store. Without credentials they fail with advice to log in.
 *   <li>{@code Bearer} challenges (RFC 6750) name a {@code realm}, {@code service} and {@code
 *       scope}. With credentials the client sends the OAuth2 form ({@code POST realm}, RFC 6749
 *       section 6 for an identity token as {@code grant_type=refresh_token}, section 4.3 for {@code
 *       grant_type=password}). When the server responds 400, 401, 404 or 405 and a user name is
 *       known, it falls back to {@code GET realm?service=..&scope=..} with Basic credentials, the
 *       Docker registry token protocol. Without credentials it sends that GET anonymously. The
 *       answer's {@code token} (or {@code access_token}) is used for {@code expires_in} seconds, or
 *       for the default lifetime.
 * </ol>
 *
 * <p>Scopes are {@code repository:<name>:pull} or {@code repository:<name>:pull,push}, and the
 * challenge's own scopes are added to the request for the authorization server. Concurrent requests
 * that need a new value for one host and scope share a single request to the authorization server.
 * Values are never logged.
 */
final class Authenticator {
  private static final Logger logger = LoggerFactory.getLogger(Authenticator.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A bearer value is not sent in its last seconds, so it does not expire in flight. */
  private static final Duration RENEWAL_MARGIN = Duration.ofSeconds(10);

  /**
   * A 403 counts as caused by expiry when the value sent has less than this left (or a quarter of
   * its lifetime, if longer), which also covers a registry clock that runs ahead of ours.
   */
  private static final Duration NEAR_EXPIRY = Duration.ofSeconds(10);

  /** ECR's message for an expired authorization, in a 403 body. */
  private static final String EXPIRED_MESSAGE = "authorization token has expired";

  private static final String CLIENT_ID = "jsoci";

  /** Authorization server responses are small JSON objects, so larger ones are rejected. */
  private static final long MAX_ANSWER_BYTES = 1 << 20;

  private final RegistryOptions options;
  private final Transport transport;
  private final Map<String, HostState> hosts = new ConcurrentHashMap<>();

  /** The state of one host: its last challenge and the values per scope. */
  private static final class HostState {
    volatile @Nullable AuthChallenge challenge;
    final Map<String, Grant> grants = new ConcurrentHashMap<>();
    final Map<String, CompletableFuture<Grant>> inFlight = new ConcurrentHashMap<>();
  }

  /**
   * An {@code Authorization} header value and its times.
   *
   * @param renewAt after this the value is replaced before use
   * @param nearExpiryAt after this a 403 is taken as a sign of expiry
   */
  private record Grant(String authorization, Instant renewAt, Instant nearExpiryAt) {}

  Authenticator(RegistryOptions options, Transport transport) {
    this.options = options;
    this.transport = transport;
  }

  /**
   * Returns the {@code Authorization} value to send to {@code endpoint} for {@code scope}, or null
   * when the host has not asked for authentication yet. May contact the authorization server.
   */
  @Nullable String authorizationFor(String registry, RegistryEndpoint endpoint, String scope)
      throws IOException {
    HostState state = hosts.get(endpoint.authority());
    if (state == null) {
      return null;
    }
    Grant grant = state.grants.get(scope);
    Instant now = options.clock().instant();
    if (grant != null && now.isBefore(grant.renewAt)) {
      return grant.authorization;
    }
    AuthChallenge challenge = state.challenge;
    if (challenge == null) {
      return null;
    }
    return obtain(registry, endpoint, state, scope, challenge, grant).authorization;
  }

  /**
   * Returns a new {@code Authorization} value after {@code response} (a 401 or 403) rejected {@code
   * sent}, or null when the response is final: a 403 not caused by expiry, or a 401 without a
   * challenge. Does not close the response.
   *
   * @throws AuthenticationException when no credentials fit the challenge
   */
  @Nullable String reauthorize(
      String registry,
      RegistryEndpoint endpoint,
      String scope,
      @Nullable String sent,
      Response response)
      throws IOException {
    HostState state = hosts.computeIfAbsent(endpoint.authority(), unused -> new HostState());
    Grant current = state.grants.get(scope);
    if (response.code() == 403) {
      boolean nearExpiry =
          sent != null
              && current != null
              && current.authorization.equals(sent)
              && !options.clock().instant().isBefore(current.nearExpiryAt);
      if (!nearExpiry && !reportsExpiry(response)) {
        return null;
      }
    }

    List<AuthChallenge> challenges = AuthChallenge.parse(response.headers("WWW-Authenticate"));
    AuthChallenge challenge = AuthChallenge.find(challenges, "bearer");
    if (challenge == null) {
      challenge = AuthChallenge.find(challenges, "basic");
    }
    if (challenge == null && !challenges.isEmpty()) {
      throw new AuthenticationException(
          "registry host "
              + endpoint.authority()
              + " asks for the unsupported authentication"
              + " scheme "
              + challenges.get(0).scheme()
              + "; only Bearer and Basic are supported");
    }
    if (challenge == null) {
      challenge = state.challenge;
    }
    if (challenge == null) {
      return null;
    }
    state.challenge = challenge;

    Grant rejected = current != null && current.authorization.equals(sent) ? current : null;
    if (rejected != null) {
      state.grants.remove(scope, rejected);
    }
    // The scheme comes last, so that no word follows "bearer" as a token would.
    logger.debug(
        "authenticating host={} status={} scheme={}",
        endpoint.authority(),
        response.code(),
        challenge.scheme());
    return obtain(registry, endpoint, state, scope, challenge, rejected).authorization;
  }

  private static boolean reportsExpiry(Response response) {
    for (RegistryError error : ErrorResponses.errorsOf(response)) {
      if (error.message().toLowerCase(java.util.Locale.ROOT).contains(EXPIRED_MESSAGE)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Returns a usable grant for {@code scope}: one another thread obtained meanwhile, or a new one.
   * Only one request per host and scope goes to the authorization server at a time.
   */
  private Grant obtain(
      String registry,
      RegistryEndpoint endpoint,
      HostState state,
      String scope,
      AuthChallenge challenge,
      @Nullable Grant stale)
      throws IOException {
    Grant current = state.grants.get(scope);
    if (current != null
        && current != stale
        && options.clock().instant().isBefore(current.renewAt)) {
      return current;
    }

    CompletableFuture<Grant> mine = new CompletableFuture<>();
    CompletableFuture<Grant> running = state.inFlight.putIfAbsent(scope, mine);
    if (running != null) {
      return await(running);
    }
    try {
      Grant grant =
          challenge.scheme().equals("basic")
              ? basicGrant(endpoint, challenge)
              : bearerGrant(registry, endpoint, scope, challenge);
      state.grants.put(scope, grant);
      mine.complete(grant);
      return grant;
    } catch (IOException | RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      state.inFlight.remove(scope, mine);
    }
  }

  private static Grant await(CompletableFuture<Grant> running) throws IOException {
    try {
      return running.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for registry authorization");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException) {
        throw (IOException) cause;
      }
      if (cause instanceof RuntimeException) {
        throw (RuntimeException) cause;
      }
      throw new IOException(cause);
    }
  }

  private Grant basicGrant(RegistryEndpoint endpoint, AuthChallenge challenge) throws IOException {
    Optional<Credentials> credentials = options.credentials().lookup(endpoint.authority());
    if (credentials.isEmpty() || credentials.get().isIdentityToken()) {
      throw new AuthenticationException(
          "registry host "
              + endpoint.authority()
              + " requires a user name and password ("
              + challenge
              + "); "
              + AuthenticationException.advice(endpoint.authority()));
    }
    Instant never = Instant.MAX;
    return new Grant(basic(credentials.get()), renewalCap(options.clock().instant()), never);
  }

  private static String basic(Credentials credentials) {
    String pair = credentials.username() + ":" + credentials.secret();
    return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
  }

  private Grant bearerGrant(
      String registry, RegistryEndpoint endpoint, String scope, AuthChallenge challenge)
      throws IOException {
    HttpUrl realm = HttpUrl.parse(challenge.realm());
    if (realm == null) {
      throw new AuthenticationException(
          "registry host "
              + endpoint.authority()
              + " sent a Bearer challenge with the invalid"
              + " realm \""
              + challenge.realm()
              + "\"");
    }
    List<String> scopes = new ArrayList<>();
    String challengeScope = challenge.parameter("scope");
    String allScopes = challengeScope == null ? scope : scope + " " + challengeScope;
    for (String item : allScopes.split(" ")) {
      if (!item.isEmpty() && !scopes.contains(item)) {
        scopes.add(item);
      }
    }
    String service = challenge.parameter("service");
    Optional<Credentials> credentials = options.credentials().lookup(endpoint.authority());

    JsonNode answer = null;
    if (credentials.isPresent()) {
      answer = postForm(registry, endpoint, realm, service, scopes, credentials.get());
    }
    if (answer == null) {
      // Anonymous, or the server does not take the OAuth2 form: postForm returns null only for
      // a user name and password.
      answer = get(registry, endpoint, realm, service, scopes, credentials.orElse(null));
    }
    return grantFrom(answer, realm);
  }

  /** Returns the response to the OAuth2 form, or null when the GET protocol should be used. */
  private @Nullable JsonNode postForm(
      String registry,
      RegistryEndpoint endpoint,
      HttpUrl realm,
      @Nullable String service,
      List<String> scopes,
      Credentials credentials)
      throws IOException {
    FormBody.Builder form = new FormBody.Builder(StandardCharsets.UTF_8);
    if (credentials.isIdentityToken()) {
      form.add("grant_type", "refresh_token").add("refresh_token", credentials.secret());
    } else {
      form.add("grant_type", "password")
          .add("username", credentials.username())
          .add("password", credentials.secret());
    }
    if (service != null) {
      form.add("service", service);
    }
    form.add("client_id", CLIENT_ID).add("scope", String.join(" ", scopes));
    Request request = new Request.Builder().url(realm).post(form.build()).build();

    return transport.execute(
        new Transport.Exchange(registry, endpoint, request, null, true, false),
        response -> {
          int status = response.code();
          boolean fallBack =
              (status == 400 || status == 401 || status == 404 || status == 405)
                  && !credentials.isIdentityToken();
          if (fallBack) {
            response.close();
            return null;
          }
          return readAnswer(response, endpoint, realm, scopes);
        });
  }

  private JsonNode get(
      String registry,
      RegistryEndpoint endpoint,
      HttpUrl realm,
      @Nullable String service,
      List<String> scopes,
      @Nullable Credentials credentials)
      throws IOException {
    HttpUrl.Builder url = realm.newBuilder();
    if (service != null) {
      url.addQueryParameter("service", service);
    }
    for (String scope : scopes) {
      url.addQueryParameter("scope", scope);
    }
    Request.Builder request = new Request.Builder().url(url.build()).get();
    if (credentials != null) {
      request.header("Authorization", basic(credentials));
    }
    return transport.execute(
        new Transport.Exchange(registry, endpoint, request.build(), null, true, false),
        response -> readAnswer(response, endpoint, realm, scopes));
  }

  private static JsonNode readAnswer(
      Response response, RegistryEndpoint endpoint, HttpUrl realm, List<String> scopes)
      throws IOException {
    try (response) {
      if (!response.isSuccessful()) {
        throw new AuthenticationException(
            "cannot get authorization for " + String.join(" ", scopes),
            response.request().method(),
            response.request().url(),
            response.code(),
            ErrorResponses.errorsOf(response),
            endpoint.authority());
      }
      JsonNode json;
      byte[] body = BoundedBody.read(response.body(), MAX_ANSWER_BYTES);
      try {
        json = body == null ? null : JSON.readTree(body);
      } catch (JacksonException e) {
        // Jackson's message quotes the offending token, which may be part of an access token, so
        // only the location is kept and the exception is not chained.
        JsonLocation location = e.getLocation();
        throw new RegistryException(
            "authorization server "
                + RegistryException.withoutQuery(realm)
                + " returned invalid JSON"
                + (location == null || location.getLineNr() < 1
                    ? ""
                    : " at line " + location.getLineNr() + ", column " + location.getColumnNr()));
      }
      if (json == null || !json.isObject()) {
        throw new RegistryException(
            "authorization server "
                + RegistryException.withoutQuery(realm)
                + " returned no JSON object of at most "
                + MAX_ANSWER_BYTES
                + " bytes");
      }
      return json;
    }
  }

  private Grant grantFrom(JsonNode answer, HttpUrl realm) throws RegistryException {
    String value = answer.path("token").asText("");
    if (value.isEmpty()) {
      value = answer.path("access_token").asText("");
    }
    if (value.isEmpty()) {
      throw new RegistryException(
          "authorization server "
              + RegistryException.withoutQuery(realm)
              + " returned neither token nor access_token");
    }
    long seconds = answer.path("expires_in").asLong(0);
    Duration lifetime = seconds > 0 ? Duration.ofSeconds(seconds) : options.defaultTokenLifetime();
    Instant now = options.clock().instant();
    Instant expiresAt = now.plus(lifetime);

    Duration renewal = min(RENEWAL_MARGIN, lifetime.dividedBy(2));
    Duration nearExpiry = max(NEAR_EXPIRY, lifetime.dividedBy(4));
    Instant renewAt = expiresAt.minus(renewal);
    Instant cap = renewalCap(now);
    return new Grant(
        "Bearer " + value, renewAt.isBefore(cap) ? renewAt : cap, expiresAt.minus(nearExpiry));
  }

  /**
   * Returns when a value obtained at {@code now} is replaced at the latest: after {@link
   * RegistryOptions#authLifetime()}, or never without one.
   */
  private Instant renewalCap(Instant now) {
    Duration lifetime = options.authLifetime();
    return lifetime == null ? Instant.MAX : now.plus(lifetime);
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }
}
