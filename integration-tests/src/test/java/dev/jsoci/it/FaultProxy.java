package dev.jsoci.it;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okio.Buffer;

/**
 * An HTTP proxy on loopback in front of a real registry, for the faults a registry cannot produce
 * on demand. It requires anonymous bearer tokens, which {@link #expireTokens()} invalidates at
 * once, and it can flip a byte in the responses for one blob or delay them.
 *
 * <p>Every {@code /v2/} request needs a token from {@code /token}; without a valid one the proxy
 * responds 401 with a {@code WWW-Authenticate: Bearer} challenge, as a registry with token
 * authentication does. Other requests are forwarded unchanged.
 */
final class FaultProxy implements AutoCloseable {
  private static final String DAEMON_USER_AGENT = "jsoci-snapshotter";

  private final MockWebServer server = new MockWebServer();
  private final OkHttpClient client =
      new OkHttpClient.Builder().followRedirects(false).readTimeout(30, TimeUnit.SECONDS).build();
  private final String upstream;
  private final Set<String> validTokens = ConcurrentHashMap.newKeySet();
  private final AtomicInteger issuedTokens = new AtomicInteger();
  private final AtomicInteger rejectedTokens = new AtomicInteger();
  private final List<String> blobRanges = new CopyOnWriteArrayList<>();
  private volatile String corruptDigest = "";
  private volatile boolean corruptDaemonOnly;
  private final AtomicInteger corruptResponsesLeft = new AtomicInteger();
  private volatile String delayDigest = "";
  private volatile long delayNanos;

  private FaultProxy(String upstream) {
    this.upstream = upstream;
  }

  /** Starts a proxy on a free loopback port that forwards to {@code upstreamUrl}. */
  static FaultProxy start(String upstreamUrl) throws IOException {
    FaultProxy proxy = new FaultProxy(upstreamUrl);
    proxy.server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            try {
              return proxy.handle(request);
            } catch (IOException e) {
              return new MockResponse.Builder().code(502).body(e.toString()).build();
            }
          }
        });
    proxy.server.start(java.net.InetAddress.getLoopbackAddress(), 0);
    return proxy;
  }

  /** Returns {@code 127.0.0.1:PORT}, the host part of image references through the proxy. */
  String host() {
    return "127.0.0.1:" + server.getPort();
  }

  /** Makes every token issued so far invalid, as if they had expired. */
  void expireTokens() {
    validTokens.clear();
  }

  /** Returns the number of tokens issued so far. */
  int issuedTokens() {
    return issuedTokens.get();
  }

  /** Returns the number of requests rejected with 401 because their token was no longer valid. */
  int rejectedTokens() {
    return rejectedTokens.get();
  }

  /**
   * Flips the first byte of the next {@code responses} GET responses for blob {@code digest}; a
   * negative count flips every response.
   *
   * @param daemonOnly flip only the responses to jsoci-snapshotter, by its User-Agent, so that
   *     containerd still pulls the blob intact
   */
  void corruptBlob(String digest, int responses, boolean daemonOnly) {
    corruptResponsesLeft.set(responses);
    corruptDaemonOnly = daemonOnly;
    corruptDigest = digest;
  }

  /** Stops flipping bytes. */
  void stopCorrupting() {
    corruptDigest = "";
  }

  /** Delays the responses to jsoci-snapshotter's GETs of blob {@code digest} by {@code delay}. */
  void delayBlobForDaemon(String digest, Duration delay) {
    delayNanos = delay.toNanos();
    delayDigest = digest;
  }

  /** Stops delaying responses. */
  void stopDelaying() {
    delayDigest = "";
  }

  /** Returns the Range headers of the blob GETs so far, as {@code DIGEST RANGE}. */
  List<String> blobRanges() {
    return List.copyOf(blobRanges);
  }

  private MockResponse handle(RecordedRequest request) throws IOException {
    String target = request.getTarget();
    if (target.startsWith("/token")) {
      String token = "token-" + issuedTokens.incrementAndGet();
      validTokens.add(token);
      return new MockResponse.Builder()
          .code(200)
          .addHeader("Content-Type", "application/json")
          .body(
              "{\"token\":\""
                  + token
                  + "\",\"access_token\":\""
                  + token
                  + "\",\"expires_in\":3600}")
          .build();
    }

    String authorization = request.getHeaders().get("Authorization");
    String token =
        authorization != null && authorization.startsWith("Bearer ")
            ? authorization.substring("Bearer ".length())
            : null;
    if (token == null || !validTokens.contains(token)) {
      if (token != null) {
        rejectedTokens.incrementAndGet();
      }
      MockResponse.Builder challenge =
          new MockResponse.Builder()
              .code(401)
              .addHeader(
                  "WWW-Authenticate",
                  "Bearer realm=\"http://" + host() + "/token\",service=\"fault-proxy\"");
      // A response to HEAD has no body; a client would read one as the next response.
      if (!request.getMethod().equals("HEAD")) {
        challenge
            .addHeader("Content-Type", "application/json")
            .body("{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"token required\"}]}");
      }
      return challenge.build();
    }
    return forward(request, target);
  }

  private MockResponse forward(RecordedRequest request, String target) throws IOException {
    Request.Builder upstreamRequest =
        new Request.Builder().url(upstream + target).method(request.getMethod(), null);
    for (String name : List.of("Accept", "Range", "User-Agent")) {
      for (String value : request.getHeaders().values(name)) {
        upstreamRequest.addHeader(name, value);
      }
    }
    String range = request.getHeaders().get("Range");
    String digest = blobDigest(target);
    if (digest != null && request.getMethod().equals("GET")) {
      blobRanges.add(digest + " " + (range == null ? "(whole)" : range));
    }

    try (Response response = client.newCall(upstreamRequest.build()).execute()) {
      MockResponse.Builder builder =
          new MockResponse.Builder().clearHeaders().code(response.code());
      Headers headers = response.headers();
      for (String name : headers.names()) {
        if (name.equalsIgnoreCase("Content-Length") || name.equalsIgnoreCase("Transfer-Encoding")) {
          continue;
        }
        for (String value : headers.values(name)) {
          builder.addHeader(name, value);
        }
      }
      if (request.getMethod().equals("HEAD")) {
        String length = headers.get("Content-Length");
        if (length != null) {
          builder.addHeader("Content-Length", length);
        }
        return builder.build();
      }
      byte[] body = response.body().bytes();
      if (shouldCorrupt(digest, request) && body.length > 0) {
        body[0] ^= (byte) 0xff;
      }
      if (digest != null && digest.equals(delayDigest) && isDaemon(request)) {
        builder.headersDelay(delayNanos, TimeUnit.NANOSECONDS);
      }
      return builder.body(new Buffer().write(body)).build();
    }
  }

  private boolean shouldCorrupt(String digest, RecordedRequest request) {
    if (digest == null || !digest.equals(corruptDigest)) {
      return false;
    }
    if (corruptDaemonOnly && !isDaemon(request)) {
      return false;
    }
    int left = corruptResponsesLeft.getAndUpdate(count -> count > 0 ? count - 1 : count);
    return left != 0;
  }

  private static boolean isDaemon(RecordedRequest request) {
    String userAgent = request.getHeaders().get("User-Agent");
    return userAgent != null && userAgent.startsWith(DAEMON_USER_AGENT);
  }

  /** Returns the digest of a {@code /v2/NAME/blobs/DIGEST} path, or null for other paths. */
  private static String blobDigest(String target) {
    int blobs = target.indexOf("/blobs/");
    if (!target.startsWith("/v2/") || blobs < 0) {
      return null;
    }
    String digest = target.substring(blobs + "/blobs/".length());
    int query = digest.indexOf('?');
    return query < 0 ? digest : digest.substring(0, query);
  }

  @Override
  public void close() throws IOException {
    server.close();
    client.dispatcher().executorService().shutdown();
    client.connectionPool().evictAll();
  }
}
