package dev.jsoci.oci;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.jspecify.annotations.Nullable;

/**
 * A content digest as the OCI image specification writes it: {@code <algorithm>:<encoded>}.
 *
 * <p>Two algorithms are accepted: {@code sha256} with 64 lowercase hex digits and {@code sha512}
 * with 128. SOCI uses {@code sha256} everywhere. Uppercase hex is rejected, as the OCI image
 * specification requires lowercase for both registered algorithms.
 *
 * @param algorithm {@code sha256} or {@code sha512}
 * @param encoded the hash in lowercase hex
 */
public record Digest(String algorithm, String encoded) {

  public static final String SHA256 = "sha256";
  public static final String SHA512 = "sha512";

  private static final char[] HEX_DIGITS = "0123456789abcdef".toCharArray();

  public Digest {
    String problem = problemWith(algorithm, encoded);
    if (problem != null) {
      throw new IllegalArgumentException(
          "invalid digest \"" + algorithm + ":" + encoded + "\": " + problem);
    }
  }

  /**
   * Parses {@code sha256:<64 hex>} or {@code sha512:<128 hex>}.
   *
   * @param value the digest string, for example from a descriptor or an annotation
   * @throws IllegalArgumentException naming the value when it is not a valid digest
   */
  public static Digest parse(String value) {
    String problem = problemWith(value);
    if (problem != null) {
      throw new IllegalArgumentException("invalid digest \"" + value + "\": " + problem);
    }
    int colon = value.indexOf(':');
    return new Digest(value.substring(0, colon), value.substring(colon + 1));
  }

  /** Returns the SHA-256 digest of all of {@code content}. */
  public static Digest sha256Of(byte[] content) {
    return sha256Hasher().update(content).digest();
  }

  /** Returns a hasher that computes a SHA-256 digest from content fed in pieces. */
  public static Hasher sha256Hasher() {
    return new Hasher(SHA256);
  }

  /**
   * Returns a new hasher for this digest's algorithm, so that content can be checked against it:
   * {@code expected.hasher().update(bytes).digest().equals(expected)}.
   */
  public Hasher hasher() {
    return new Hasher(algorithm);
  }

  @Override
  public String toString() {
    return algorithm + ":" + encoded;
  }

  /**
   * Returns why {@code value} is not a valid digest string, or null when it is valid. The reason
   * does not repeat the value, so callers can put it after their own description.
   */
  static @Nullable String problemWith(String value) {
    int colon = value.indexOf(':');
    if (colon < 0) {
      return "expected <algorithm>:<hex>, found no ':'";
    }
    return problemWith(value.substring(0, colon), value.substring(colon + 1));
  }

  private static @Nullable String problemWith(String algorithm, String encoded) {
    int expectedLength;
    switch (algorithm) {
      case SHA256:
        expectedLength = 64;
        break;
      case SHA512:
        expectedLength = 128;
        break;
      default:
        return "unsupported algorithm \"" + algorithm + "\", expected sha256 or sha512";
    }

    if (encoded.length() != expectedLength) {
      return "expected "
          + expectedLength
          + " hex digits after \""
          + algorithm
          + ":\", found "
          + encoded.length()
          + " characters";
    }
    for (int i = 0; i < encoded.length(); i++) {
      char c = encoded.charAt(i);
      boolean lowercaseHex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
      if (!lowercaseHex) {
        return "expected lowercase hex digits, found '" + c + "' at index " + i + " of the hex";
      }
    }
    return null;
  }

  private static String toHex(byte[] hash) {
    char[] hex = new char[hash.length * 2];
    for (int i = 0; i < hash.length; i++) {
      hex[2 * i] = HEX_DIGITS[(hash[i] >> 4) & 0xf];
      hex[2 * i + 1] = HEX_DIGITS[hash[i] & 0xf];
    }
    return new String(hex);
  }

  /**
   * Computes a digest over content that arrives in pieces, such as a large blob read in chunks.
   *
   * <p>A hasher is not thread-safe, so feed it from one thread. {@link #digest()} returns the
   * result and resets the hasher to empty content.
   */
  public static final class Hasher {
    private final String algorithm;
    private final MessageDigest messageDigest;

    private Hasher(String algorithm) {
      this.algorithm = algorithm;
      String javaName = algorithm.equals(SHA256) ? "SHA-256" : "SHA-512";
      try {
        this.messageDigest = MessageDigest.getInstance(javaName);
      } catch (NoSuchAlgorithmException e) {
        // Every Java SE platform must provide SHA-256 and SHA-512 (MessageDigest Javadoc).
        throw new IllegalStateException("the JDK does not provide " + javaName, e);
      }
    }

    public Hasher update(byte[] content) {
      messageDigest.update(content);
      return this;
    }

    public Hasher update(byte[] content, int offset, int length) {
      messageDigest.update(content, offset, length);
      return this;
    }

    /** Feeds the remaining bytes of {@code content} and leaves its position at its limit. */
    public Hasher update(ByteBuffer content) {
      messageDigest.update(content);
      return this;
    }

    /** Completes the hash, returns the digest and resets the hasher to empty content. */
    public Digest digest() {
      return new Digest(algorithm, toHex(messageDigest.digest()));
    }
  }
}
