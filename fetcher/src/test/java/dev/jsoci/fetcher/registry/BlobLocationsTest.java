package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;

import java.time.Instant;
import okhttp3.HttpUrl;
import org.junit.jupiter.api.Test;

/** Expiry hints in the query of signed object-store URLs. */
class BlobLocationsTest {
  @Test
  void hintedExpiry_awsSignatureVersion4() {
    HttpUrl url =
        HttpUrl.get(
            "https://bucket.s3.example/key?X-Amz-Date=20250101T120000Z&X-Amz-Expires=600"
                + "&X-Amz-Signature=abc");

    assertThat(BlobLocations.hintedExpiry(url)).isEqualTo(Instant.parse("2025-01-01T12:10:00Z"));
  }

  @Test
  void hintedExpiry_googleCloudStorageV4() {
    HttpUrl url =
        HttpUrl.get("https://storage.example/b/o?X-Goog-Date=20250101T000000Z&X-Goog-Expires=60");

    assertThat(BlobLocations.hintedExpiry(url)).isEqualTo(Instant.parse("2025-01-01T00:01:00Z"));
  }

  @Test
  void hintedExpiry_unixSecondsAndAzure() {
    assertThat(BlobLocations.hintedExpiry(HttpUrl.get("https://cdn.example/x?Expires=1735689600")))
        .isEqualTo(Instant.parse("2025-01-01T00:00:00Z"));
    assertThat(
            BlobLocations.hintedExpiry(
                HttpUrl.get("https://acct.blob.example/c/b?se=2025-01-01T00:00:00Z&sig=x")))
        .isEqualTo(Instant.parse("2025-01-01T00:00:00Z"));
  }

  @Test
  void hintedExpiry_noneOrInvalid() {
    assertThat(BlobLocations.hintedExpiry(HttpUrl.get("https://cdn.example/x"))).isNull();
    assertThat(BlobLocations.hintedExpiry(HttpUrl.get("https://cdn.example/x?Expires=soon")))
        .isNull();
  }
}
