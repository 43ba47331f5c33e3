package dev.jsoci.fetcher.registry;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads certificates and private keys from PEM files (RFC 7468).
 *
 * <p>Keys may be unencrypted PKCS#8 ({@code PRIVATE KEY}, RSA, EC or Ed25519), PKCS#1 ({@code RSA
 * PRIVATE KEY}) or SEC1 with a named curve ({@code EC PRIVATE KEY}, as {@code openssl ecparam
 * -genkey} writes). Encrypted keys are rejected with a message asking for an unencrypted key.
 */
final class PemFiles {
  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)\\s*-----END \\1-----");

  /** The AlgorithmIdentifier fields of rsaEncryption: OID 1.2.840.113549.1.1.1 and NULL. */
  private static final byte[] RSA_ALGORITHM = {
    0x06,
    0x09,
    0x2a,
    (byte) 0x86,
    0x48,
    (byte) 0x86,
    (byte) 0xf7,
    0x0d,
    0x01,
    0x01,
    0x01,
    0x05,
    0x00
  };

  /** The OID id-ecPublicKey, 1.2.840.10045.2.1, with its tag and length. */
  private static final byte[] EC_PUBLIC_KEY_OID = {
    0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01
  };

  private PemFiles() {}

  private record Block(String label, byte[] der) {}

  /** Returns every {@code CERTIFICATE} block of {@code file}, in order. */
  static List<X509Certificate> readCertificates(Path file) throws IOException {
    List<X509Certificate> certificates = new ArrayList<>();
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      for (Block block : readBlocks(file)) {
        if (block.label.equals("CERTIFICATE")) {
          certificates.add(
              (X509Certificate) factory.generateCertificate(new ByteArrayInputStream(block.der)));
        }
      }
    } catch (CertificateException e) {
      throw new IOException("invalid certificate in " + file + ": " + e.getMessage(), e);
    }
    if (certificates.isEmpty()) {
      throw new IOException("no PEM certificate found in " + file);
    }
    return certificates;
  }

  /** Returns the first private key of {@code file}. */
  static PrivateKey readPrivateKey(Path file) throws IOException {
    for (Block block : readBlocks(file)) {
      switch (block.label) {
        case "PRIVATE KEY":
          return pkcs8(file, block.der);
        case "RSA PRIVATE KEY":
          return pkcs8(file, wrapPkcs1(block.der));
        case "EC PRIVATE KEY":
          return pkcs8(file, wrapSec1(file, block.der));
        case "ENCRYPTED PRIVATE KEY":
          throw new IOException(
              "encrypted private key in " + file + " is not supported; store it unencrypted");
        default:
          break;
      }
    }
    throw new IOException("no PEM private key found in " + file);
  }

  private static List<Block> readBlocks(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.US_ASCII);
    List<Block> blocks = new ArrayList<>();
    Matcher matcher = BLOCK.matcher(text);
    while (matcher.find()) {
      try {
        blocks.add(new Block(matcher.group(1), Base64.getMimeDecoder().decode(matcher.group(2))));
      } catch (IllegalArgumentException e) {
        throw new IOException("invalid base64 in PEM block " + matcher.group(1) + " of " + file, e);
      }
    }
    return blocks;
  }

  private static PrivateKey pkcs8(Path file, byte[] der) throws IOException {
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : List.of("RSA", "EC", "Ed25519")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (GeneralSecurityException e) {
        // The key names its algorithm inside the DER, so the next factory may accept it.
      }
    }
    throw new IOException("unsupported private key in " + file + ": not RSA, EC or Ed25519");
  }

  /**
   * Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo (RFC 5208 section 5) with the
   * rsaEncryption algorithm.
   */
  private static byte[] wrapPkcs1(byte[] pkcs1) {
    return privateKeyInfo(RSA_ALGORITHM, pkcs1);
  }

  /**
   * Wraps a SEC1 ECPrivateKey (RFC 5915) in a PKCS#8 PrivateKeyInfo with the id-ecPublicKey
   * algorithm and the named curve that the key's {@code parameters} field gives.
   *
   * @throws IOException if the DER is malformed or names no curve
   */
  private static byte[] wrapSec1(Path file, byte[] sec1) throws IOException {
    byte[] curve = null;
    try {
      // ECPrivateKey ::= SEQUENCE { version, privateKey, [0] parameters OPTIONAL, [1] ... }
      DerReader key = new DerReader(sec1).enter(0x30);
      while (key.hasMore()) {
        int tag = key.peekTag();
        if (tag == 0xa0) {
          curve = key.enter(0xa0).element(0x06);
          break;
        }
        key.skip();
      }
    } catch (IllegalArgumentException e) {
      throw new IOException("invalid SEC1 EC private key in " + file + ": " + e.getMessage(), e);
    }
    if (curve == null) {
      throw new IOException(
          "SEC1 EC private key in "
              + file
              + " does not name its curve; convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY"
              + " -out KEY.pk8");
    }
    ByteArrayOutputStream algorithm = new ByteArrayOutputStream();
    algorithm.writeBytes(EC_PUBLIC_KEY_OID);
    algorithm.writeBytes(curve);
    return privateKeyInfo(algorithm.toByteArray(), sec1);
  }

  /**
   * Returns {@code SEQUENCE { INTEGER 0, SEQUENCE { algorithm }, OCTET STRING key }}, a PKCS#8
   * PrivateKeyInfo whose AlgorithmIdentifier contains the encoded {@code algorithm} fields.
   */
  private static byte[] privateKeyInfo(byte[] algorithm, byte[] key) {
    ByteArrayOutputStream content = new ByteArrayOutputStream();
    content.writeBytes(new byte[] {0x02, 0x01, 0x00});
    content.write(0x30);
    writeLength(content, algorithm.length);
    content.writeBytes(algorithm);
    content.write(0x04);
    writeLength(content, key.length);
    content.writeBytes(key);

    ByteArrayOutputStream sequence = new ByteArrayOutputStream();
    sequence.write(0x30);
    writeLength(sequence, content.size());
    sequence.writeBytes(content.toByteArray());
    return sequence.toByteArray();
  }

  /** Reads the DER elements of one constructed value in order (X.690), for the key wrappers. */
  private static final class DerReader {
    private final byte[] der;
    private int position;
    private final int end;

    DerReader(byte[] der) {
      this(der, 0, der.length);
    }

    private DerReader(byte[] der, int start, int end) {
      this.der = der;
      this.position = start;
      this.end = end;
    }

    boolean hasMore() {
      return position < end;
    }

    int peekTag() {
      return der[position] & 0xff;
    }

    /** Returns a reader of the contents of the next element, which must have {@code tag}. */
    DerReader enter(int tag) {
      int[] bounds = next(tag);
      return new DerReader(der, bounds[1], bounds[2]);
    }

    /** Returns the next element, which must have {@code tag}, with its tag and length bytes. */
    byte[] element(int tag) {
      int[] bounds = next(tag);
      return java.util.Arrays.copyOfRange(der, bounds[0], bounds[2]);
    }

    void skip() {
      next(peekTag());
    }

    /** Returns the start, the content start and the end of the next element. */
    private int[] next(int tag) {
      int start = position;
      if (position + 2 > end || (der[position] & 0xff) != tag) {
        throw new IllegalArgumentException(
            String.format("expected DER tag 0x%02x at byte %d", tag, position));
      }
      int length = der[position + 1] & 0xff;
      int content = position + 2;
      if (length >= 0x80) {
        int bytes = length & 0x7f;
        if (bytes == 0 || bytes > 3 || content + bytes > end) {
          throw new IllegalArgumentException("unsupported DER length at byte " + position);
        }
        length = 0;
        for (int i = 0; i < bytes; i++) {
          length = (length << 8) | (der[content + i] & 0xff);
        }
        content += bytes;
      }
      if (content + length > end) {
        throw new IllegalArgumentException("DER element at byte " + start + " is truncated");
      }
      position = content + length;
      return new int[] {start, content, position};
    }
  }

  /** Writes a DER definite length (X.690 section 8.1.3). */
  private static void writeLength(ByteArrayOutputStream out, int length) {
    if (length < 0x80) {
      out.write(length);
      return;
    }
    int bytes = (Integer.SIZE - Integer.numberOfLeadingZeros(length) + 7) / 8;
    out.write(0x80 | bytes);
    for (int i = bytes - 1; i >= 0; i--) {
      out.write((length >>> (8 * i)) & 0xff);
    }
  }
}
