package dev.jsoci.fetcher.registry;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import okhttp3.Call;
import okhttp3.HttpUrl;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import okio.ForwardingSource;
import okio.Okio;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends registry requests: adds the headers from {@code hosts.toml} and the authorization, responds
 * to authentication challenges once, follows redirects by hand, retries with backoff, and reports
 * every exchange to the {@link RegistryListener}.
 *
 * <p>Redirects (301, 302, 303, 307, 308) of GET and HEAD requests are followed up to 10 times. When
 * a redirect leads to another origin (scheme, host or port), typically a signed object-store URL,
 * the {@code Authorization} header and the {@code hosts.toml} headers are dropped and the base HTTP
 * client is used, because such URLs carry their own signature and reject other credentials. Log
 * lines show URLs without their query string.
 *
 * <p>Thread-safe. Each call blocks until its response arrives.
 */
final class Transport {
  private static final Logger logger = LoggerFactory.getLogger(Transport.class);
  private static final Logger retryLogger = LoggerFactory.getLogger(RegistryClient.RETRY_LOGGER);
  private static final int MAX_REDIRECTS = 10;

  /**
   * One request to send, without {@code Authorization}.
   *
   * @param registry the registry host of the image reference, for the listener and messages
   * @param endpoint the host whose TLS settings apply, or null for the base client
   * @param request the request
   * @param scope the token scope for a registry API request, which also turns on the {@code
   *     hosts.toml} headers and authentication; null for authorization servers and signed URLs
   * @param retryable whether the request may be sent again after a failure
   * @param streaming whether the response body is handed to the caller as a stream, so that no call
   *     timeout applies
   */
  record Exchange(
      String registry,
      @Nullable RegistryEndpoint endpoint,
      Request request,
      @Nullable String scope,
      boolean retryable,
      boolean streaming,
      @Nullable RetrySettings retries) {

    /** Creates an exchange with the retries of the options. */
    Exchange(
        String registry,
        @Nullable RegistryEndpoint endpoint,
        Request request,
        @Nullable String scope,
        boolean retryable,
        boolean streaming) {
      this(registry, endpoint, request, scope, retryable, streaming, null);
    }
  }

  /**
   * Reads a response. The handler closes the response, unless it returns it to its caller. When it
   * throws, the transport closes it.
   */
  @FunctionalInterface
  interface ResponseHandler<T> {
    T handle(Response response) throws IOException;
  }

  private final RegistryOptions options;
  private final HttpClients clients;
  private final RetryPolicy retryPolicy;
  private final RetrySettings retries;
  private final Authenticator authenticator;

  Transport(RegistryOptions options, HttpClients clients) {
    this.options = options;
    this.clients = clients;
    this.retryPolicy = new RetryPolicy(options);
    this.retries = options.retries();
    this.authenticator = new Authenticator(options, this);
  }

  /**
   * Sends {@code exchange} and hands the response to {@code handler}, retrying on connection
   * failures, on retryable statuses and on handler failures that are not {@link
   * RegistryException}s, within the retry limits of the options, unless the endpoint fails fast. A
   * failing credential helper ({@link CredentialHelperException}) or an unusable {@code
   * config.json} entry ({@link CredentialConfigException}) is not retried, nor is a {@code ca} or
   * {@code client} file of a hosts.toml that cannot be read ({@link TlsFilesException}).
   *
   * @throws RegistryException when every attempt failed, or when the handler rejects the response
   */
  <T> T execute(Exchange exchange, ResponseHandler<T> handler) throws IOException {
    Instant start = options.clock().instant();
    RetrySettings retries = exchange.retries() != null ? exchange.retries() : this.retries;
    // A host that another host of the registry backs gets one attempt: the next host is tried
    // instead of waiting for this one.
    boolean failFast = exchange.endpoint() != null && exchange.endpoint().failFast();
    for (int attempt = 1; ; attempt++) {
      boolean mayRetry = exchange.retryable() && !failFast && attempt <= retries.maxRetries();

      Response response;
      long attemptStart = System.nanoTime();
      try {
        response = send(exchange);
      } catch (IOException e) {
        if (e instanceof RegistryException
            || e instanceof CredentialHelperException
            || e instanceof CredentialConfigException
            || e instanceof TlsFilesException) {
          throw e;
        }
        String advice = tlsAdvice(exchange, e, attemptStart);
        if (advice != null) {
          throw new RegistryException(failedRequest(exchange) + " failed: " + advice, e);
        }
        if (mayRetry && RetryPolicy.isRetryableFailure(e)) {
          if (waitForRetry(
              exchange, start, attempt, retryPolicy.backoff(attempt, retries), e.toString())) {
            continue;
          }
        }
        throw gaveUp(exchange, attempt, e);
      }

      int status = response.code();
      if (RetryPolicy.isRetryableStatus(status)) {
        if (mayRetry) {
          Duration wait = retryWait(response, attempt, retries);
          if (fitsBudget(start, wait)) {
            response.close();
            waitForRetry(exchange, start, attempt, wait, "status " + status);
            continue;
          }
        }
        if (attempt > 1) {
          try (response) {
            throw new RegistryException(
                "giving up after " + attempt + " attempts",
                response.request().method(),
                response.request().url(),
                status,
                ErrorResponses.errorsOf(response),
                null);
          }
        }
      }

      try {
        return handler.handle(response);
      } catch (IOException e) {
        response.close();
        if (e instanceof RegistryException) {
          throw e;
        }
        if (mayRetry && RetryPolicy.isRetryableFailure(e)) {
          if (waitForRetry(
              exchange, start, attempt, retryPolicy.backoff(attempt, retries), e.toString())) {
            continue;
          }
        }
        throw gaveUp(exchange, attempt, e);
      } catch (RuntimeException e) {
        response.close();
        throw e;
      }
    }
  }

  private Duration retryWait(Response response, int attempt, RetrySettings retries) {
    int status = response.code();
    if (status == 429 || status == 503) {
      Duration retryAfter =
          retryPolicy.retryAfter(response.header("Retry-After"), options.clock().instant());
      if (retryAfter != null) {
        return retryAfter;
      }
    }
    return retryPolicy.backoff(attempt, retries);
  }

  private boolean fitsBudget(Instant start, Duration wait) {
    Duration elapsed = Duration.between(start, options.clock().instant());
    return elapsed.plus(wait).compareTo(options.maxRetryDuration()) <= 0;
  }

  /** Sleeps before the next attempt; returns false when the wait does not fit the time budget. */
  private boolean waitForRetry(
      Exchange exchange, Instant start, int attempt, Duration wait, String reason)
      throws IOException {
    if (!fitsBudget(start, wait)) {
      return false;
    }
    Request request = exchange.request();
    String host = RegistryEndpoint.authorityOf(request.url());
    retryLogger.info(
        "retrying {} {} in {} ms, after attempt {} failed {} s into the request: {}",
        request.method(),
        RegistryException.withoutQuery(request.url()),
        wait.toMillis(),
        attempt,
        String.format(
            Locale.ROOT,
            "%.1f",
            Duration.between(start, options.clock().instant()).toMillis() / 1000.0),
        reason);
    options.listener().retryScheduled(exchange.registry(), host, request.method(), wait);
    try {
      options.sleeper().sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to retry " + request.method());
    }
    return true;
  }

  /**
   * Returns the advice of {@link TlsAdvice} for a failure of an attempt that started at {@code
   * attemptStart} ({@link System#nanoTime}), or null when it is not a TLS setup failure.
   */
  private @Nullable String tlsAdvice(Exchange exchange, IOException failure, long attemptStart) {
    HttpUrl url = exchange.request().url();
    ClientCertificateRequests.Unanswered unanswered =
        clients.certificateRequests().unansweredSince(url.host(), url.port(), attemptStart);
    RegistryEndpoint endpoint = exchange.endpoint();
    boolean configuredMirror =
        endpoint != null && HostsDirectory.isConfiguredMirror(options, endpoint);
    return TlsAdvice.explain(
        failure,
        exchange.registry(),
        url,
        configuredMirror ? null : options.hostsDirectory(),
        unanswered,
        configuredMirror);
  }

  private static String failedRequest(Exchange exchange) {
    Request request = exchange.request();
    return request.method() + " " + RegistryException.withoutQuery(request.url());
  }

  private static RegistryException gaveUp(Exchange exchange, int attempts, IOException cause) {
    return new RegistryException(
        failedRequest(exchange)
            + " failed after "
            + attempts
            + (attempts == 1 ? " attempt: " : " attempts: ")
            + cause,
        cause);
  }

  /** Sends one attempt: authorization, one response to a challenge, redirects. */
  private Response send(Exchange exchange) throws IOException {
    Request.Builder builder =
        exchange.request().newBuilder().header("User-Agent", options.userAgent());
    if (exchange.request().header("Accept-Encoding") == null) {
      // Byte ranges and digests refer to the stored bytes, so no transfer compression.
      builder.header("Accept-Encoding", "identity");
    }
    RegistryEndpoint endpoint = exchange.endpoint();
    String scope = exchange.scope();
    OkHttpClient client =
        endpoint == null ? clients.base() : clients.clientFor(endpoint.connection());
    if (endpoint == null || scope == null) {
      return followRedirects(exchange, client, builder.build());
    }

    for (Map.Entry<String, List<String>> header : endpoint.headers().entrySet()) {
      builder.removeHeader(header.getKey());
      for (String value : header.getValue()) {
        builder.addHeader(header.getKey(), value);
      }
    }
    Request request = builder.build();

    String authorization = authenticator.authorizationFor(exchange.registry(), endpoint, scope);
    Response response =
        followRedirects(exchange, client, withAuthorization(request, authorization));
    if (response.code() != 401 && response.code() != 403) {
      return response;
    }
    String renewed;
    try {
      renewed =
          authenticator.reauthorize(exchange.registry(), endpoint, scope, authorization, response);
    } catch (IOException | RuntimeException e) {
      response.close();
      throw e;
    }
    if (renewed == null) {
      return response;
    }
    response.close();
    return followRedirects(exchange, client, withAuthorization(request, renewed));
  }

  private static Request withAuthorization(Request request, @Nullable String authorization) {
    if (authorization == null) {
      return request;
    }
    return request.newBuilder().header("Authorization", authorization).build();
  }

  private Response followRedirects(Exchange exchange, OkHttpClient client, Request request)
      throws IOException {
    HttpUrl origin = request.url();
    Request current = request;
    OkHttpClient currentClient = client;
    for (int redirects = 0; ; redirects++) {
      Response response = call(exchange, currentClient, current);
      String method = current.method();
      boolean followable = method.equals("GET") || method.equals("HEAD");
      String location = response.header("Location");
      if (!isRedirect(response.code()) || !followable || location == null) {
        return response;
      }
      response.close();

      HttpUrl target = current.url().resolve(location);
      if (target == null) {
        throw new RegistryException(
            method
                + " "
                + RegistryException.withoutQuery(current.url())
                + " redirected to an invalid location");
      }
      if (redirects == MAX_REDIRECTS) {
        throw new RegistryException(
            method
                + " "
                + RegistryException.withoutQuery(request.url())
                + " redirected more than "
                + MAX_REDIRECTS
                + " times");
      }
      Request.Builder next = current.newBuilder().url(target);
      if (!sameOrigin(target, origin)) {
        next.removeHeader("Authorization");
        RegistryEndpoint endpoint = exchange.endpoint();
        if (endpoint != null) {
          endpoint.headers().keySet().forEach(next::removeHeader);
        }
        currentClient = clients.base();
      }
      logger.debug(
          "following redirect op={} from={} to={}",
          method,
          RegistryException.withoutQuery(current.url()),
          RegistryException.withoutQuery(target));
      current = next.build();
    }
  }

  static boolean isRedirect(int status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  }

  static boolean sameOrigin(HttpUrl a, HttpUrl b) {
    return a.scheme().equals(b.scheme()) && a.host().equals(b.host()) && a.port() == b.port();
  }

  private Response call(Exchange exchange, OkHttpClient client, Request request)
      throws IOException {
    Call call = client.newCall(request);
    if (exchange.streaming()) {
      call.timeout().timeout(0, TimeUnit.NANOSECONDS);
    }
    String host = RegistryEndpoint.authorityOf(request.url());
    Response response;
    long startNanos = System.nanoTime();
    try {
      response = call.execute();
    } catch (IOException e) {
      options.listener().requestFailed(exchange.registry(), host, request.method(), e);
      throw e;
    }
    Duration elapsed = Duration.ofNanos(System.nanoTime() - startNanos);
    options
        .listener()
        .responseReceived(exchange.registry(), host, request.method(), response.code(), elapsed);
    ResponseBody counted = new CountingBody(response.body(), exchange.registry(), host);
    return response.newBuilder().body(counted).build();
  }

  /** A response body that reports the bytes read from it to the listener. */
  private final class CountingBody extends ResponseBody {
    private final ResponseBody delegate;
    private final BufferedSource source;

    CountingBody(ResponseBody delegate, String registry, String host) {
      this.delegate = delegate;
      this.source =
          Okio.buffer(
              new ForwardingSource(delegate.source()) {
                @Override
                public long read(Buffer sink, long byteCount) throws IOException {
                  long read = super.read(sink, byteCount);
                  if (read > 0) {
                    options.listener().bytesReceived(registry, host, read);
                  }
                  return read;
                }
              });
    }

    @Override
    public okhttp3.@Nullable MediaType contentType() {
      return delegate.contentType();
    }

    @Override
    public long contentLength() {
      return delegate.contentLength();
    }

    @Override
    public BufferedSource source() {
      return source;
    }

    @Override
    public void close() {
      delegate.close();
    }
  }
}
