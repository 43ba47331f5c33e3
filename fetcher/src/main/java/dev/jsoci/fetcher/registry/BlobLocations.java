package dev.jsoci.fetcher.registry;

import dev.jsoci.oci.Digest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * Remembers where each blob was last read from, so that later range reads skip the mirrors that
 * failed and the registry's redirect: the endpoint that served it, and the redirect target when it
 * was on another host.
 *
 * <p>A redirect target (a signed URL) is kept until the TTL of the options or the expiry the URL
 * carries, whichever comes first, minus a safety margin. Recognised expiry hints: {@code
 * X-Amz-Date} with {@code X-Amz-Expires} (AWS Signature Version 4), {@code X-Goog-Date} with {@code
 * X-Goog-Expires} (Google Cloud Storage V4), {@code Expires} in Unix seconds (S3 signature version
 * 2, CloudFront), and {@code se} (Azure shared access signatures). At most {@value #MAX_ENTRIES}
 * blobs are kept, the least recently used dropped first. Thread-safe.
 */
final class BlobLocations {
  private static final int MAX_ENTRIES = 4096;

  /** A signed URL is not used in its last part, so it does not expire while a read runs. */
  private static final Duration EXPIRY_MARGIN = Duration.ofSeconds(30);

  private static final DateTimeFormatter SIGV4_DATE =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");

  /**
   * The location a blob is read from.
   *
   * @param endpoint the registry endpoint that served the blob
   * @param url the blob URL: the endpoint's, or the redirect target on another host
   * @param redirected whether {@code url} is a redirect target on another host, sent without
   *     registry credentials
   * @param expiresAt when to stop using {@code url}
   */
  record Location(RegistryEndpoint endpoint, HttpUrl url, boolean redirected, Instant expiresAt) {}

  private final Clock clock;
  private final Duration ttl;
  private final Map<String, Location> locations =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Location> eldest) {
          return size() > MAX_ENTRIES;
        }
      };

  BlobLocations(Clock clock, Duration ttl) {
    this.clock = clock;
    this.ttl = ttl;
  }

  /** Returns the location of the blob, or null when none is known or it has expired. */
  synchronized @Nullable Location get(String repositoryName, Digest digest) {
    String key = key(repositoryName, digest);
    Location location = locations.get(key);
    if (location != null && !clock.instant().isBefore(location.expiresAt)) {
      locations.remove(key);
      return null;
    }
    return location;
  }

  /** Remembers that {@code endpoint} served the blob, at {@code finalUrl} after redirects. */
  synchronized void remember(
      String repositoryName, Digest digest, RegistryEndpoint endpoint, HttpUrl finalUrl) {
    boolean redirected = !Transport.sameOrigin(finalUrl, endpoint.apiRoot());
    Instant now = clock.instant();
    Instant expiresAt = redirected ? redirectExpiry(finalUrl, now) : Instant.MAX;
    if (!now.isBefore(expiresAt)) {
      return;
    }
    locations.put(
        key(repositoryName, digest), new Location(endpoint, finalUrl, redirected, expiresAt));
  }

  /** Forgets {@code location} of the blob, unless another location replaced it meanwhile. */
  synchronized void forget(String repositoryName, Digest digest, Location location) {
    locations.remove(key(repositoryName, digest), location);
  }

  private Instant redirectExpiry(HttpUrl url, Instant now) {
    Instant expiry = now.plus(ttl);
    Instant hinted = hintedExpiry(url);
    if (hinted != null) {
      Instant usable = hinted.minus(EXPIRY_MARGIN);
      expiry = usable.isBefore(expiry) ? usable : expiry;
    }
    return expiry;
  }

  /** Returns the expiry a signed URL carries in its query, or null when it carries none. */
  static @Nullable Instant hintedExpiry(HttpUrl url) {
    try {
      Instant signed = signedAt(url, "X-Amz-Date", "X-Amz-Expires");
      if (signed == null) {
        signed = signedAt(url, "X-Goog-Date", "X-Goog-Expires");
      }
      if (signed != null) {
        return signed;
      }
      String expires = url.queryParameter("Expires");
      if (expires != null) {
        return Instant.ofEpochSecond(Long.parseLong(expires));
      }
      String azure = url.queryParameter("se");
      if (azure != null) {
        return Instant.parse(azure);
      }
    } catch (NumberFormatException | DateTimeParseException e) {
      return null;
    }
    return null;
  }

  private static @Nullable Instant signedAt(HttpUrl url, String dateName, String secondsName) {
    String date = url.queryParameter(dateName);
    String seconds = url.queryParameter(secondsName);
    if (date == null || seconds == null) {
      return null;
    }
    Instant start = LocalDateTime.parse(date, SIGV4_DATE).toInstant(ZoneOffset.UTC);
    return start.plusSeconds(Long.parseLong(seconds));
  }

  private static String key(String repositoryName, Digest digest) {
    return repositoryName + "@" + digest;
  }
}
