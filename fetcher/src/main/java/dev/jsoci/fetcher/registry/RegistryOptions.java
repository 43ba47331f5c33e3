package dev.jsoci.fetcher.registry;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;
import org.jspecify.annotations.Nullable;

/**
 * Settings of a {@link RegistryClient}. Build with {@link #builder()}. Every setting has a default.
 *
 * @param hostsDirectory the directory of containerd {@code hosts.toml} files ({@code
 *     <dir>/<host[:port]>/hosts.toml}), or null to use only each registry's own origin
 * @param plainHttp whether every registry is contacted over plain http, whatever scheme its URL has
 * @param connectTimeout TCP (and TLS) connect timeout per attempt; a host's {@code dial_timeout} in
 *     {@code hosts.toml} replaces it
 * @param readTimeout the longest wait for the next bytes of a response, headers included
 * @param callTimeout the longest time one attempt may take, from connecting until the body is read;
 *     streams from {@link RegistryClient#newBlobStream} have no call timeout
 * @param maxRetries requests sent again after the first attempt; 0 disables retries
 * @param minBackoff the base of the exponential backoff between attempts
 * @param maxBackoff the largest backoff between two attempts
 * @param maxRetryDuration the longest time one request may take with all its retries and waits; no
 *     retry starts after it
 * @param maxRetryAfter the longest {@code Retry-After} wait that is honoured; longer values are cut
 *     to it
 * @param blobLocationTtl how long a blob's redirect target (a signed object-store URL) is reused
 *     when the URL carries no expiry of its own
 * @param maxManifestBytes the largest manifest or index that is read
 * @param maxRangeSkipBytes the largest offset a ranged read accepts when a server ignores the
 *     {@code Range} header and sends the whole blob, since those bytes are read and discarded
 * @param chunkedUploadThresholdBytes blobs larger than this are pushed in chunks (PATCH requests)
 *     rather than with one PUT
 * @param uploadChunkBytes the size of each chunk of a chunked push; each chunk is held in memory
 * @param defaultTokenLifetime how long a bearer token is used when the authorization server gives
 *     no {@code expires_in}
 * @param userAgent the {@code User-Agent} header of every request
 * @param credentials where registry credentials come from
 * @param listener receives request and byte counts
 * @param clock the time source for expiry of tokens and redirect targets, and for retry budgets
 * @param sleeper waits between retries
 * @param jitter returns uniformly distributed numbers in [0, 1) for the backoff jitter
 * @param layerDataRetries the retries of range reads and blob streams, which read layer data, or
 *     null to use {@code maxRetries}, {@code minBackoff} and {@code maxBackoff} as for every other
 *     request
 * @param authLifetime the maximum time a registry authorization (a bearer token, or Basic
 *     credentials read from the credential store) is reused before it is obtained again. Obtaining
 *     it again picks up changed credentials. Null reuses it until it expires or is rejected
 * @param mirrors mirrors by the registry host they serve ({@code docker.io}, {@code
 *     registry:5000}), each list in the order tried, before the hosts of {@code hostsDirectory}
 */
public record RegistryOptions(
    @Nullable Path hostsDirectory,
    boolean plainHttp,
    Duration connectTimeout,
    Duration readTimeout,
    Duration callTimeout,
    int maxRetries,
    Duration minBackoff,
    Duration maxBackoff,
    Duration maxRetryDuration,
    Duration maxRetryAfter,
    Duration blobLocationTtl,
    long maxManifestBytes,
    long maxRangeSkipBytes,
    long chunkedUploadThresholdBytes,
    int uploadChunkBytes,
    Duration defaultTokenLifetime,
    String userAgent,
    CredentialStore credentials,
    RegistryListener listener,
    Clock clock,
    Sleeper sleeper,
    DoubleSupplier jitter,
    @Nullable RetrySettings layerDataRetries,
    @Nullable Duration authLifetime,
    Map<String, List<RegistryMirror>> mirrors) {

  /** containerd's default directory of {@code hosts.toml} files. */
  public static final Path DEFAULT_HOSTS_DIRECTORY = Path.of("/etc/containerd/certs.d");

  public RegistryOptions {
    requirePositive("connectTimeout", connectTimeout);
    requirePositive("readTimeout", readTimeout);
    requirePositive("callTimeout", callTimeout);
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must not be negative, found " + maxRetries);
    }
    requirePositive("minBackoff", minBackoff);
    requirePositive("maxBackoff", maxBackoff);
    if (maxBackoff.compareTo(minBackoff) < 0) {
      throw new IllegalArgumentException(
          "maxBackoff " + maxBackoff + " must not be shorter than minBackoff " + minBackoff);
    }
    requirePositive("maxRetryDuration", maxRetryDuration);
    requirePositive("maxRetryAfter", maxRetryAfter);
    requirePositive("blobLocationTtl", blobLocationTtl);
    requirePositive("maxManifestBytes", maxManifestBytes);
    if (maxRangeSkipBytes < 0) {
      throw new IllegalArgumentException(
          "maxRangeSkipBytes must not be negative, found " + maxRangeSkipBytes);
    }
    requirePositive("chunkedUploadThresholdBytes", chunkedUploadThresholdBytes);
    requirePositive("uploadChunkBytes", uploadChunkBytes);
    requirePositive("defaultTokenLifetime", defaultTokenLifetime);
    Objects.requireNonNull(userAgent, "userAgent");
    Objects.requireNonNull(credentials, "credentials");
    Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(sleeper, "sleeper");
    Objects.requireNonNull(jitter, "jitter");
    if (authLifetime != null) {
      requirePositive("authLifetime", authLifetime);
    }
    Map<String, List<RegistryMirror>> copy = new LinkedHashMap<>();
    mirrors.forEach((registry, list) -> copy.put(registry, List.copyOf(list)));
    mirrors = Collections.unmodifiableMap(copy);
  }

  /** Returns the retries of every request other than layer data reads. */
  public RetrySettings retries() {
    return new RetrySettings(maxRetries, minBackoff, maxBackoff);
  }

  /** Returns the retries of range reads and blob streams: {@code layerDataRetries} when set. */
  public RetrySettings retriesOfLayerData() {
    return layerDataRetries != null ? layerDataRetries : retries();
  }

  /** Returns the default options: {@code builder().build()}. */
  public static RegistryOptions defaults() {
    return builder().build();
  }

  /**
   * Returns a builder with the defaults: hosts from {@code /etc/containerd/certs.d}, connect
   * timeout 3 s, read timeout 30 s, call timeout 5 min, 8 retries with a backoff from 30 ms up to
   * 30 s within 5 min, {@code Retry-After} honoured up to 60 s, redirect targets reused for 5 min,
   * manifests up to 4 MiB, range skips up to 1 MiB, chunked pushes above 64 MiB in 8 MiB chunks,
   * bearer tokens without {@code expires_in} kept 60 s, and credentials from the Docker
   * configuration ({@link DockerCredentialStore#fromEnvironment()}).
   */
  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  private static void requirePositive(String name, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, found " + value);
    }
  }

  private static void requirePositive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, found " + value);
    }
  }

  /** Builds {@link RegistryOptions}; each method sets the component it names. */
  public static final class Builder {
    private @Nullable Path hostsDirectory = DEFAULT_HOSTS_DIRECTORY;
    private boolean plainHttp = false;
    private Duration connectTimeout = Duration.ofSeconds(3);
    private Duration readTimeout = Duration.ofSeconds(30);
    private Duration callTimeout = Duration.ofMinutes(5);
    private int maxRetries = 8;
    private Duration minBackoff = Duration.ofMillis(30);
    private Duration maxBackoff = Duration.ofSeconds(30);
    private Duration maxRetryDuration = Duration.ofMinutes(5);
    private Duration maxRetryAfter = Duration.ofSeconds(60);
    private Duration blobLocationTtl = Duration.ofMinutes(5);
    private long maxManifestBytes = 4L << 20;
    private long maxRangeSkipBytes = 1L << 20;
    private long chunkedUploadThresholdBytes = 64L << 20;
    private int uploadChunkBytes = 8 << 20;
    private Duration defaultTokenLifetime = Duration.ofSeconds(60);
    private String userAgent = "jsoci";
    private @Nullable CredentialStore credentials;
    private RegistryListener listener = RegistryListener.NONE;
    private Clock clock = Clock.systemUTC();
    private Sleeper sleeper = Sleeper.SYSTEM;
    private DoubleSupplier jitter = () -> ThreadLocalRandom.current().nextDouble();
    private @Nullable RetrySettings layerDataRetries;
    private @Nullable Duration authLifetime;
    private Map<String, List<RegistryMirror>> mirrors = Map.of();

    private Builder() {}

    private Builder(RegistryOptions options) {
      hostsDirectory = options.hostsDirectory;
      plainHttp = options.plainHttp;
      connectTimeout = options.connectTimeout;
      readTimeout = options.readTimeout;
      callTimeout = options.callTimeout;
      maxRetries = options.maxRetries;
      minBackoff = options.minBackoff;
      maxBackoff = options.maxBackoff;
      maxRetryDuration = options.maxRetryDuration;
      maxRetryAfter = options.maxRetryAfter;
      blobLocationTtl = options.blobLocationTtl;
      maxManifestBytes = options.maxManifestBytes;
      maxRangeSkipBytes = options.maxRangeSkipBytes;
      chunkedUploadThresholdBytes = options.chunkedUploadThresholdBytes;
      uploadChunkBytes = options.uploadChunkBytes;
      defaultTokenLifetime = options.defaultTokenLifetime;
      userAgent = options.userAgent;
      credentials = options.credentials;
      listener = options.listener;
      clock = options.clock;
      sleeper = options.sleeper;
      jitter = options.jitter;
      layerDataRetries = options.layerDataRetries;
      authLifetime = options.authLifetime;
      mirrors = options.mirrors;
    }

    public Builder hostsDirectory(@Nullable Path hostsDirectory) {
      this.hostsDirectory = hostsDirectory;
      return this;
    }

    public Builder plainHttp(boolean plainHttp) {
      this.plainHttp = plainHttp;
      return this;
    }

    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = connectTimeout;
      return this;
    }

    public Builder readTimeout(Duration readTimeout) {
      this.readTimeout = readTimeout;
      return this;
    }

    public Builder callTimeout(Duration callTimeout) {
      this.callTimeout = callTimeout;
      return this;
    }

    public Builder maxRetries(int maxRetries) {
      this.maxRetries = maxRetries;
      return this;
    }

    public Builder minBackoff(Duration minBackoff) {
      this.minBackoff = minBackoff;
      return this;
    }

    public Builder maxBackoff(Duration maxBackoff) {
      this.maxBackoff = maxBackoff;
      return this;
    }

    public Builder maxRetryDuration(Duration maxRetryDuration) {
      this.maxRetryDuration = maxRetryDuration;
      return this;
    }

    public Builder maxRetryAfter(Duration maxRetryAfter) {
      this.maxRetryAfter = maxRetryAfter;
      return this;
    }

    public Builder blobLocationTtl(Duration blobLocationTtl) {
      this.blobLocationTtl = blobLocationTtl;
      return this;
    }

    public Builder maxManifestBytes(long maxManifestBytes) {
      this.maxManifestBytes = maxManifestBytes;
      return this;
    }

    public Builder maxRangeSkipBytes(long maxRangeSkipBytes) {
      this.maxRangeSkipBytes = maxRangeSkipBytes;
      return this;
    }

    public Builder chunkedUploadThresholdBytes(long chunkedUploadThresholdBytes) {
      this.chunkedUploadThresholdBytes = chunkedUploadThresholdBytes;
      return this;
    }

    public Builder uploadChunkBytes(int uploadChunkBytes) {
      this.uploadChunkBytes = uploadChunkBytes;
      return this;
    }

    public Builder defaultTokenLifetime(Duration defaultTokenLifetime) {
      this.defaultTokenLifetime = defaultTokenLifetime;
      return this;
    }

    public Builder userAgent(String userAgent) {
      this.userAgent = userAgent;
      return this;
    }

    public Builder credentials(CredentialStore credentials) {
      this.credentials = credentials;
      return this;
    }

    public Builder listener(RegistryListener listener) {
      this.listener = listener;
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = clock;
      return this;
    }

    public Builder sleeper(Sleeper sleeper) {
      this.sleeper = sleeper;
      return this;
    }

    public Builder jitter(DoubleSupplier jitter) {
      this.jitter = jitter;
      return this;
    }

    public Builder layerDataRetries(@Nullable RetrySettings layerDataRetries) {
      this.layerDataRetries = layerDataRetries;
      return this;
    }

    public Builder authLifetime(@Nullable Duration authLifetime) {
      this.authLifetime = authLifetime;
      return this;
    }

    /** Sets the mirrors by the registry host they serve, each list in the order tried. */
    public Builder mirrors(Map<String, List<RegistryMirror>> mirrors) {
      this.mirrors = mirrors;
      return this;
    }

    public RegistryOptions build() {
      CredentialStore store =
          credentials != null ? credentials : DockerCredentialStore.fromEnvironment();
      return new RegistryOptions(
          hostsDirectory,
          plainHttp,
          connectTimeout,
          readTimeout,
          callTimeout,
          maxRetries,
          minBackoff,
          maxBackoff,
          maxRetryDuration,
          maxRetryAfter,
          blobLocationTtl,
          maxManifestBytes,
          maxRangeSkipBytes,
          chunkedUploadThresholdBytes,
          uploadChunkBytes,
          defaultTokenLifetime,
          userAgent,
          store,
          listener,
          clock,
          sleeper,
          jitter,
          layerDataRetries,
          authLifetime,
          mirrors);
    }
  }
}
