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
 * <p>Keys may be unencrypted PKCS#8 ({@code PRIVATE KEY}, RSA, EC or Ed25519) or PKCS#1 ({@code RSA
 * PRIVATE KEY}). NOTE: SEC1 EC keys ({@code EC PRIVATE KEY}) and encrypted keys are rejected with a
 * message that explains how to convert them.
 */
final class PemFiles {
  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]*?)\\s*-----END \\1-----");

  /** DER encoding of the AlgorithmIdentifier for rsaEncryption (OID 1.2.840.113549.1.1.1). */
  private static final byte[] RSA_ALGORITHM = {
    0x30,
    0x0d,
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
          throw new IOException(
              "unsupported SEC1 EC key in "
                  + file
                  + "; convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
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
   * Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo (RFC 5208 section 5): {@code SEQUENCE {
   * INTEGER 0, AlgorithmIdentifier rsaEncryption, OCTET STRING pkcs1 }}.
   */
  private static byte[] wrapPkcs1(byte[] pkcs1) {
    ByteArrayOutputStream content = new ByteArrayOutputStream();
    content.writeBytes(new byte[] {0x02, 0x01, 0x00});
    content.writeBytes(RSA_ALGORITHM);
    content.write(0x04);
    writeLength(content, pkcs1.length);
    content.writeBytes(pkcs1);

    ByteArrayOutputStream sequence = new ByteArrayOutputStream();
    sequence.write(0x30);
    writeLength(sequence, content.size());
    sequence.writeBytes(content.toByteArray());
    return sequence.toByteArray();
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
