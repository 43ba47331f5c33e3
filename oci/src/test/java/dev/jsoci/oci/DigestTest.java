package dev.jsoci.oci;

import static com.google.common.truth.Truth.assertThat;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class DigestTest {
  private static final String TEST_SHA256 =
      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

  @Test
  void parse_sha256_splitsAlgorithmAndHex() {
    Digest digest = Digest.parse("sha256:" + TEST_SHA256);

    assertThat(digest.algorithm()).isEqualTo("sha256");
    assertThat(digest.encoded()).isEqualTo(TEST_SHA256);
    assertThat(digest.toString()).isEqualTo("sha256:" + TEST_SHA256);
  }

  @Test
  void parse_sha512_accepted() {
    String hex = "ab".repeat(64);

    assertThat(Digest.parse("sha512:" + hex).encoded()).isEqualTo(hex);
  }

  @Test
  void parse_uppercaseHex_rejected() {
    String value = "sha256:" + TEST_SHA256.toUpperCase(java.util.Locale.ROOT);

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Digest.parse(value));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "invalid digest \""
                + value
                + "\": expected lowercase hex digits, found 'F' at index 1 of the hex");
  }

  @Test
  void parse_shortHex_rejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Digest.parse("sha256:abc"));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "invalid digest \"sha256:abc\": expected 64 hex digits after \"sha256:\", found 3"
                + " characters");
  }

  @Test
  void parse_sha512WithSha256Length_rejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Digest.parse("sha512:" + TEST_SHA256));

    assertThat(e).hasMessageThat().contains("expected 128 hex digits after \"sha512:\"");
  }

  @Test
  void parse_noColon_rejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Digest.parse(TEST_SHA256));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "invalid digest \"" + TEST_SHA256 + "\": expected <algorithm>:<hex>, found no ':'");
  }

  @Test
  void parse_unsupportedAlgorithm_rejected() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> Digest.parse("sha384:" + "a".repeat(96)));

    assertThat(e)
        .hasMessageThat()
        .endsWith(": unsupported algorithm \"sha384\", expected sha256 or sha512");
  }

  @Test
  void parse_empty_rejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Digest.parse(""));

    assertThat(e).hasMessageThat().startsWith("invalid digest \"\": ");
  }

  @Test
  void constructor_invalidHex_rejected() {
    assertThrows(IllegalArgumentException.class, () -> new Digest("sha256", "xyz"));
  }

  @Test
  void sha256Of_knownInputs() {
    assertThat(Digest.sha256Of("test".getBytes(UTF_8)).toString())
        .isEqualTo("sha256:" + TEST_SHA256);
    assertThat(Digest.sha256Of("{}".getBytes(UTF_8)))
        .isEqualTo(
            Digest.parse(
                "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"));
  }

  @Test
  void sha256Hasher_inPieces_equalsOneShot() {
    byte[] content = new byte[100_000];
    for (int i = 0; i < content.length; i++) {
      content[i] = (byte) (i * 31);
    }

    Digest pieces =
        Digest.sha256Hasher()
            .update(content, 0, 10)
            .update(ByteBuffer.wrap(content, 10, 50_000))
            .update(java.util.Arrays.copyOfRange(content, 50_010, content.length))
            .digest();

    assertThat(pieces).isEqualTo(Digest.sha256Of(content));
  }

  @Test
  void hasher_afterDigest_startsOver() {
    Digest.Hasher hasher = Digest.sha256Hasher();
    hasher.update("test".getBytes(UTF_8)).digest();

    assertThat(hasher.update("test".getBytes(UTF_8)).digest().encoded()).isEqualTo(TEST_SHA256);
  }

  @Test
  void hasher_ofSha512Digest_usesSha512() {
    // SHA-512 of "abc", FIPS 180-2 appendix C.1.
    Digest expected =
        Digest.parse(
            "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");

    assertThat(expected.hasher().update("abc".getBytes(UTF_8)).digest()).isEqualTo(expected);
  }
}
