package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.testing.LocalRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Distribution registry with htpasswd Basic authentication, and credentials from a Docker
 * config.json. The bcrypt htpasswd file comes from {@code htpasswd -B} (Debian's apache2-utils).
 */
class BasicAuthRegistryTest {
  @TempDir static Path directory;
  private static LocalRegistry registry;

  @BeforeAll
  static void startRegistry() throws Exception {
    assumeTrue(
        LocalRegistry.isInstalled(),
        "docker-registry is not installed; install the Debian package docker-registry");
    Path htpasswd = directory.resolve("htpasswd");
    Process process =
        new ProcessBuilder("htpasswd", "-B", "-b", "-c", htpasswd.toString(), "tester", "t0ps3cret")
            .redirectErrorStream(true)
            .start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException(
          "htpasswd -B failed (install the Debian package apache2-utils): " + output);
    }
    registry = LocalRegistry.start(htpasswd);
  }

  @AfterAll
  static void stopRegistry() {
    if (registry != null) {
      registry.close();
    }
  }

  private static RegistryClient clientWithConfig(String configJson) throws IOException {
    Path config = Files.createTempFile(directory, "config", ".json");
    Files.writeString(config, configJson);
    return RegistryClient.create(
        RegistryOptions.builder()
            .hostsDirectory(null)
            .credentials(DockerCredentialStore.of(config, directory, Duration.ofSeconds(5)))
            .build());
  }

  private static String authEntry(String user, String password) {
    String auth =
        Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    return "{\"auths\":{\"" + registry.host() + "\":{\"auth\":\"" + auth + "\"}}}";
  }

  @Test
  void pushAndRead_withConfigCredentials() throws IOException {
    ImageRef repository = ImageRef.parse(registry.host() + "/private/app:1");
    byte[] content = "private layer".getBytes(StandardCharsets.UTF_8);
    Descriptor blob =
        Descriptor.of(MediaType.OCI_LAYER_TAR, Digest.sha256Of(content), content.length);

    try (RegistryClient client = clientWithConfig(authEntry("tester", "t0ps3cret"))) {
      assertThat(client.pushBlob(repository, blob, BlobSource.of(content)))
          .isEqualTo(BlobPushOutcome.UPLOADED);
      assertThat(client.readBlobRange(repository, blob.digest(), 8, 5, content.length))
          .isEqualTo("layer".getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void readBlob_withoutCredentials() throws IOException {
    ImageRef repository = ImageRef.parse(registry.host() + "/private/app:1");
    Descriptor blob = Descriptor.of(MediaType.OCI_LAYER_TAR, Digest.sha256Of(new byte[1]), 1);

    try (RegistryClient client = clientWithConfig("{}")) {
      AuthenticationException e =
          assertThrows(AuthenticationException.class, () -> client.readBlob(repository, blob));
      assertThat(e)
          .hasMessageThat()
          .isEqualTo(
              "registry host "
                  + registry.host()
                  + " requires a user name and password (basic"
                  + " realm=\"jsoci-test\"); run docker login "
                  + registry.host()
                  + " or set credentials in DOCKER_CONFIG");
    }
  }

  @Test
  void readBlob_wrongPassword() throws IOException {
    ImageRef repository = ImageRef.parse(registry.host() + "/private/app:1");
    Descriptor blob = Descriptor.of(MediaType.OCI_LAYER_TAR, Digest.sha256Of(new byte[1]), 1);

    try (RegistryClient client = clientWithConfig(authEntry("tester", "wrong"))) {
      AuthenticationException e =
          assertThrows(AuthenticationException.class, () -> client.readBlob(repository, blob));
      assertThat(e.statusCode()).isEqualTo(401);
      assertThat(e)
          .hasMessageThat()
          .startsWith(
              "cannot read blob "
                  + blob.digest()
                  + " of "
                  + repository.name()
                  + ": GET "
                  + registry.url()
                  + "/v2/private/app/blobs/"
                  + blob.digest()
                  + " returned status 401");
      assertThat(e)
          .hasMessageThat()
          .endsWith(
              "; run docker login " + registry.host() + " or set credentials in DOCKER_CONFIG");
      assertThat(e).hasMessageThat().doesNotContain("wrong");
    }
  }
}
