package dev.jsoci.fetcher.registry;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.net.UnknownServiceException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.jspecify.annotations.Nullable;

/**
 * Decides which failures are retried and how long to wait before the next attempt.
 *
 * <p>Retried: connection failures and timeouts, and the statuses 429 and 5xx except 501 (Not
 * Implemented, which does not change on retry). Not retried: TLS certificate failures, a plain
 * HTTP response to a TLS handshake, a cleartext request the client forbids, interruption, and
 * {@link RegistryException}s such as too many redirects.
 *
 * <p>The wait before attempt {@code n + 1} uses exponential backoff with full jitter: a uniformly
 * random time in {@code [0, min(maxBackoff, minBackoff * 2^(n-1)))}. A {@code Retry-After} header
 * on 429 or 503 (seconds, or an HTTP date as in RFC 9110 section 10.2.3) replaces it, cut to {@code
 * maxRetryAfter}.
 */
final class RetryPolicy {
  private final RegistryOptions options;
  private final RetrySettings retries;

  RetryPolicy(RegistryOptions options) {
    this.options = options;
    this.retries = options.retries();
  }

  static boolean isRetryableStatus(int status) {
    return status == 429 || (status >= 500 && status <= 599 && status != 501);
  }

  static boolean isRetryableFailure(IOException failure) {
    if (failure instanceof RegistryException) {
      return false;
    }
    // OkHttp reports a body cut short as a ProtocolException, so those are retried. Too many
    // redirects is a RegistryException from Transport.
    if (failure instanceof SSLPeerUnverifiedException
        || failure instanceof UnknownServiceException) {
      return false;
    }
    if (failure instanceof SSLHandshakeException && hasCertificateCause(failure)) {
      return false;
    }
    if (isPlainHttpResponse(failure)) {
      return false;
    }
    if (failure instanceof InterruptedIOException && !(failure instanceof SocketTimeoutException)) {
      // OkHttp reports its call timeout as an InterruptedIOException "timeout", but a real
      // interruption of the thread is not retried.
      return !Thread.currentThread().isInterrupted();
    }
    return true;
  }

  /**
   * Returns whether a TLS handshake failed because the server responded in plain HTTP. The JDK
   * reports this only through the message text, which JDK 17 writes as matched here.
   */
  static boolean isPlainHttpResponse(IOException failure) {
    String message = failure.getMessage();
    return failure instanceof SSLException
        && message != null
        && message.contains("Unsupported or unrecognized SSL message");
  }

  private static boolean hasCertificateCause(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof CertificateException) {
        return true;
      }
    }
    return false;
  }

  /** Returns the backoff before the attempt after {@code attempt} (1 for the first attempt). */
  Duration backoff(int attempt) {
    return backoff(attempt, retries);
  }

  /** Returns the wait before attempt {@code attempt + 1} with the backoff of {@code retries}. */
  Duration backoff(int attempt, RetrySettings retries) {
    long min = retries.minBackoff().toNanos();
    long max = retries.maxBackoff().toNanos();
    long ceiling = min;
    for (int i = 1; i < attempt && ceiling < max; i++) {
      ceiling = ceiling > max / 2 ? max : ceiling * 2;
    }
    ceiling = Math.min(ceiling, max);
    double fraction = options.jitter().getAsDouble();
    if (!(fraction >= 0 && fraction < 1)) {
      fraction = 0;
    }
    return Duration.ofNanos((long) (ceiling * fraction));
  }

  /**
   * Returns the wait a {@code Retry-After} value requests, cut to {@code maxRetryAfter}, or null
   * when the value is absent or invalid.
   */
  @Nullable Duration retryAfter(@Nullable String value, Instant now) {
    if (value == null || value.isBlank()) {
      return null;
    }
    String text = value.trim();
    Duration wait;
    if (text.chars().allMatch(Character::isDigit)) {
      try {
        wait = Duration.ofSeconds(Long.parseLong(text));
      } catch (NumberFormatException e) {
        wait = options.maxRetryAfter();
      }
    } else {
      try {
        Instant at = ZonedDateTime.parse(text, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        wait = Duration.between(now, at);
      } catch (DateTimeParseException e) {
        return null;
      }
      if (wait.isNegative()) {
        wait = Duration.ZERO;
      }
    }
    return wait.compareTo(options.maxRetryAfter()) > 0 ? options.maxRetryAfter() : wait;
  }
}
