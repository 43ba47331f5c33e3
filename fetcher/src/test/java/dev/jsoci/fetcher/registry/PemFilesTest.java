package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads private keys that openssl writes in the PEM forms that containerd accepts. */
class PemFilesTest {
  private static final Path OPENSSL = Path.of("/usr/bin/openssl");

  @TempDir Path directory;

  @Test
  void readPrivateKey_sec1EcKey() throws Exception {
    assumeTrue(Files.isExecutable(OPENSSL), "openssl is not installed");
    Path sec1 = directory.resolve("sec1.pem");
    Path pkcs8 = directory.resolve("pkcs8.pem");
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", sec1.toString());
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", sec1.toString(), "-out", pkcs8.toString());

    PrivateKey fromSec1 = PemFiles.readPrivateKey(sec1);
    PrivateKey fromPkcs8 = PemFiles.readPrivateKey(pkcs8);

    assertThat(Files.readString(sec1)).contains("-----BEGIN EC PRIVATE KEY-----");
    assertThat(fromSec1.getAlgorithm()).isEqualTo("EC");
    assertThat(((ECPrivateKey) fromSec1).getS()).isEqualTo(((ECPrivateKey) fromPkcs8).getS());
    assertThat(((ECPrivateKey) fromSec1).getParams().toString())
        .isEqualTo(((ECPrivateKey) fromPkcs8).getParams().toString());
  }

  @Test
  void readPrivateKey_truncatedSec1Key_namesFile() throws Exception {
    Path file = directory.resolve("broken.pem");
    Files.writeString(
        file,
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n",
        StandardCharsets.US_ASCII);

    IOException e = assertThrows(IOException.class, () -> PemFiles.readPrivateKey(file));

    assertThat(e).hasMessageThat().startsWith("invalid SEC1 EC private key in " + file + ": ");
  }

  private void openssl(String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of(OPENSSL.toString()));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).isEqualTo(0);
    assertThat(output).isEmpty();
  }
}
