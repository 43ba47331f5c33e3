package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fetcher.registry.MockRegistry.response;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.oci.Digest;
import dev.jsoci.oci.MediaType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Credentials from a Docker config.json and from docker-credential-* helper programs. */
class DockerCredentialStoreTest {
  @TempDir Path directory;

  private DockerCredentialStore store(String configJson) throws IOException {
    Path config = directory.resolve("config.json");
    Files.writeString(config, configJson);
    return DockerCredentialStore.of(config, directory, Duration.ofSeconds(5));
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Writes {@code docker-credential-<name>}, which prints the given user name and secret for {@code
   * host} and "credentials not found" for any other server, as docker-credential-helpers do. It
   * appends each server URL it reads to {@code <name>.log}.
   */
  private void writeHelper(String name, String host, String username, String secret)
      throws IOException {
    Path helper = directory.resolve("docker-credential-" + name);
    Files.writeString(
        helper,
        "#!/bin/sh\n"
            + "read server\n"
            + "echo \"$server\" >> \""
            + directory.resolve(name + ".log")
            + "\"\n"
            + "if [ \"$server\" = \""
            + host
            + "\" ]; then\n"
            + "  printf '{\"ServerURL\":\"%s\",\"Username\":\""
            + username
            + "\",\"Secret\":\""
            + secret
            + "\"}' \"$server\"\n"
            + "else\n"
            + "  echo 'credentials not found in native keychain'\n"
            + "  exit 1\n"
            + "fi\n");
    Files.setPosixFilePermissions(helper, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  @Test
  void lookup_authField() throws IOException {
    DockerCredentialStore store =
        store("{\"auths\":{\"reg.example:5000\":{\"auth\":\"" + base64("alice:pa:ss") + "\"}}}");

    assertThat(store.lookup("reg.example:5000"))
        .isEqualTo(Optional.of(new Credentials("alice", "pa:ss")));
    assertThat(store.lookup("other.example")).isEqualTo(Optional.empty());
  }

  @Test
  void lookup_keyWithSchemeAndPath() throws IOException {
    DockerCredentialStore store =
        store(
            "{\"auths\":{\"https://reg.example:5000/v1/\":"
                + "{\"username\":\"bob\",\"password\":\"pw\"}}}");

    assertThat(store.lookup("reg.example:5000"))
        .isEqualTo(Optional.of(new Credentials("bob", "pw")));
  }

  @Test
  void lookup_dockerHubHosts() throws IOException {
    DockerCredentialStore store =
        store(
            "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\""
                + base64("hub:pw")
                + "\"}}}");

    for (String host : new String[] {"docker.io", "registry-1.docker.io", "index.docker.io"}) {
      assertThat(store.lookup(host)).isEqualTo(Optional.of(new Credentials("hub", "pw")));
    }
  }

  @Test
  void lookup_identityToken() throws IOException {
    DockerCredentialStore store =
        store(
            "{\"auths\":{\"reg.example\":{\"auth\":\""
                + base64("u:p")
                + "\",\"identitytoken\":\"refresh-me\"}}}");

    Credentials credentials = store.lookup("reg.example").orElseThrow();

    assertThat(credentials.isIdentityToken()).isTrue();
    assertThat(credentials.secret()).isEqualTo("refresh-me");
    assertThat(credentials.toString()).doesNotContain("refresh-me");
  }

  @Test
  void lookup_missingOrInvalidFile() throws IOException {
    DockerCredentialStore missing =
        DockerCredentialStore.of(directory.resolve("absent.json"), null, Duration.ofSeconds(1));
    DockerCredentialStore invalid = store("{not json");

    assertThat(missing.lookup("reg.example")).isEqualTo(Optional.empty());
    assertThat(invalid.lookup("reg.example")).isEqualTo(Optional.empty());
  }

  @Test
  void lookup_credHelper() throws IOException {
    writeHelper("test", "reg.example:5000", "helper-user", "helper-secret");
    DockerCredentialStore store = store("{\"credHelpers\":{\"reg.example:5000\":\"test\"}}");

    assertThat(store.lookup("reg.example:5000"))
        .isEqualTo(Optional.of(new Credentials("helper-user", "helper-secret")));
    assertThat(Files.readString(directory.resolve("test.log"))).isEqualTo("reg.example:5000\n");
  }

  @Test
  void lookup_credsStoreWithoutEntry() throws IOException {
    writeHelper("store", "https://index.docker.io/v1/", "<token>", "hub-identity");
    DockerCredentialStore store =
        store(
            "{\"credsStore\":\"store\",\"auths\":{\"reg.example\":{\"auth\":\""
                + base64("file:pw")
                + "\"}}}");

    Credentials hub = store.lookup("docker.io").orElseThrow();
    assertThat(hub.isIdentityToken()).isTrue();
    assertThat(hub.secret()).isEqualTo("hub-identity");
    assertThat(store.lookup("reg.example")).isEqualTo(Optional.of(new Credentials("file", "pw")));
  }

  @Test
  void lookup_helperMissing() throws IOException {
    DockerCredentialStore store = store("{\"credHelpers\":{\"reg.example\":\"absent\"}}");

    IOException e = assertThrows(IOException.class, () -> store.lookup("reg.example"));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "credential helper docker-credential-absent not found in "
                + directory
                + "; install it or remove it from the Docker config");
  }

  @Test
  void lookup_helperHangs() throws IOException {
    Path helper = directory.resolve("docker-credential-slow");
    Files.writeString(helper, "#!/bin/sh\nexec sleep 30\n");
    Files.setPosixFilePermissions(helper, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path config = directory.resolve("config.json");
    Files.writeString(config, "{\"credHelpers\":{\"reg.example\":\"slow\"}}");
    DockerCredentialStore store =
        DockerCredentialStore.of(config, directory, Duration.ofMillis(300));

    long start = System.nanoTime();
    IOException e = assertThrows(IOException.class, () -> store.lookup("reg.example"));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("docker-credential-slow get timed out after 300 ms for reg.example");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void fetchManifest_credentialHelperForBasicRegistry() throws IOException {
    try (MockRegistry registry = MockRegistry.start()) {
      writeHelper("test", registry.host(), "helper-user", "helper-secret");
      DockerCredentialStore store =
          store("{\"credHelpers\":{\"" + registry.host() + "\":\"test\"}}");
      String expected = "Basic " + base64("helper-user:helper-secret");
      String manifest =
          "{\"schemaVersion\":2,\"config\":{\"mediaType\":\""
              + MediaType.OCI_CONFIG
              + "\",\"digest\":\""
              + Digest.sha256Of(new byte[0])
              + "\",\"size\":0}}";
      registry.handle(
          request ->
              expected.equals(request.getHeaders().get("Authorization"))
                  ? response(200, manifest, "Content-Type", MediaType.OCI_MANIFEST)
                  : response(401, "", "WWW-Authenticate", "Basic realm=\"helper\""));

      try (RegistryClient client =
          RegistryClient.create(
              RegistryOptions.builder().hostsDirectory(null).credentials(store).build())) {
        client.fetchManifest(registry.ref("app:1"));
      }

      assertThat(registry.requests()).hasSize(2);
      assertThat(registry.requests().get(1).getHeaders().get("Authorization")).isEqualTo(expected);
    }
  }

  @Test
  void fetchManifest_missingHelperNotRetried() throws IOException {
    try (MockRegistry registry = MockRegistry.start()) {
      DockerCredentialStore store =
          store("{\"credHelpers\":{\"" + registry.host() + "\":\"absent\"}}");
      registry.handle(request -> response(401, "", "WWW-Authenticate", "Basic realm=\"helper\""));

      IOException e;
      try (RegistryClient client =
          RegistryClient.create(
              RegistryOptions.builder().hostsDirectory(null).credentials(store).build())) {
        e = assertThrows(IOException.class, () -> client.fetchManifest(registry.ref("app:1")));
      }

      assertThat(e).isInstanceOf(CredentialHelperException.class);
      assertThat(e)
          .hasMessageThat()
          .isEqualTo(
              "credential helper docker-credential-absent not found in "
                  + directory
                  + "; install it or remove it from the Docker config");
      // One anonymous request gets the challenge; the missing helper stops the client there.
      assertThat(registry.requests()).hasSize(1);
    }
  }

  @Test
  void fetchManifest_authNotBase64NotRetried() throws IOException {
    try (MockRegistry registry = MockRegistry.start()) {
      DockerCredentialStore store =
          store("{\"auths\":{\"" + registry.host() + "\":{\"auth\":\"!!notbase64\"}}}");
      registry.handle(request -> response(401, "", "WWW-Authenticate", "Basic realm=\"auths\""));

      IOException e;
      try (RegistryClient client =
          RegistryClient.create(
              RegistryOptions.builder().hostsDirectory(null).credentials(store).build())) {
        e = assertThrows(IOException.class, () -> client.fetchManifest(registry.ref("app:1")));
      }

      assertThat(e).isInstanceOf(CredentialConfigException.class);
      assertThat(e)
          .hasMessageThat()
          .isEqualTo(
              "invalid auths entry for "
                  + registry.host()
                  + " in "
                  + directory.resolve("config.json")
                  + ": auth is not base64; it must be the base64 of USER:PASSWORD");
      assertThat(registry.requests()).hasSize(1);
    }
  }
}
