package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.security.cert.CertificateException;
import java.time.Duration;
import java.time.Instant;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/** Backoff, Retry-After and which failures are retried. */
class RetryPolicyTest {
  private static RetryPolicy policy(double jitter) {
    return new RetryPolicy(
        RegistryOptions.builder()
            .credentials(CredentialStore.ANONYMOUS)
            .minBackoff(Duration.ofMillis(30))
            .maxBackoff(Duration.ofSeconds(1))
            .maxRetryAfter(Duration.ofSeconds(60))
            .jitter(() -> jitter)
            .build());
  }

  @Test
  void backoff_doublesUpToMaxWithFullJitter() {
    RetryPolicy nearlyFull = policy(0.999999);

    assertThat(nearlyFull.backoff(1).toMillis()).isEqualTo(29);
    assertThat(nearlyFull.backoff(2).toMillis()).isEqualTo(59);
    assertThat(nearlyFull.backoff(6).toMillis()).isEqualTo(959);
    assertThat(nearlyFull.backoff(7).toMillis()).isEqualTo(999);
    assertThat(nearlyFull.backoff(200).toMillis()).isEqualTo(999);
    assertThat(policy(0).backoff(5)).isEqualTo(Duration.ZERO);
  }

  @Test
  void retryAfter_secondsDateAndCap() {
    RetryPolicy policy = policy(0.5);
    Instant now = Instant.parse("2025-01-01T00:00:00Z");

    assertThat(policy.retryAfter("5", now)).isEqualTo(Duration.ofSeconds(5));
    assertThat(policy.retryAfter("Wed, 01 Jan 2025 00:00:20 GMT", now))
        .isEqualTo(Duration.ofSeconds(20));
    assertThat(policy.retryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now)).isEqualTo(Duration.ZERO);
    assertThat(policy.retryAfter("86400", now)).isEqualTo(Duration.ofSeconds(60));
    assertThat(policy.retryAfter("soon", now)).isNull();
    assertThat(policy.retryAfter(null, now)).isNull();
  }

  @Test
  void isRetryable_statusesAndFailures() {
    assertThat(RetryPolicy.isRetryableStatus(429)).isTrue();
    assertThat(RetryPolicy.isRetryableStatus(500)).isTrue();
    assertThat(RetryPolicy.isRetryableStatus(503)).isTrue();
    assertThat(RetryPolicy.isRetryableStatus(501)).isFalse();
    assertThat(RetryPolicy.isRetryableStatus(404)).isFalse();

    assertThat(RetryPolicy.isRetryableFailure(new ConnectException("refused"))).isTrue();
    assertThat(RetryPolicy.isRetryableFailure(new SocketTimeoutException("timeout"))).isTrue();
    SSLHandshakeException untrusted = new SSLHandshakeException("untrusted");
    untrusted.initCause(new CertificateException("no path"));
    assertThat(RetryPolicy.isRetryableFailure(untrusted)).isFalse();
    assertThat(RetryPolicy.isRetryableFailure(new RegistryException("final"))).isFalse();
    assertThat(RetryPolicy.isRetryableFailure(new IOException("reset"))).isTrue();
  }
}
