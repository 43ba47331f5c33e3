package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fetcher.registry.MockRegistry.response;

import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A registry whose hosts.toml sends pushes to a host of their own: what a push would find there is
 * asked of that host, not of the server that reads go to.
 */
class PushHostTest {
  private static final Digest DIGEST =
      Digest.sha256Of("pushed content".getBytes(StandardCharsets.UTF_8));

  @TempDir Path directory;
  private MockRegistry server;
  private MockRegistry pushHost;

  @BeforeEach
  void start() throws IOException {
    server = MockRegistry.start("127.0.0.1");
    pushHost = MockRegistry.start("127.0.0.2");
  }

  @AfterEach
  void stop() {
    server.close();
    pushHost.close();
  }

  private RegistryClient client(boolean withPushHost) throws IOException {
    Path file = directory.resolve(server.host()).resolve("hosts.toml");
    Files.createDirectories(file.getParent());
    Files.writeString(
        file,
        "server = \"http://"
            + server.host()
            + "\"\n"
            + (withPushHost
                ? "[host.\"http://" + pushHost.host() + "\"]\n  capabilities = [\"push\"]\n"
                : ""));
    return RegistryClient.create(
        RegistryOptions.builder()
            .hostsDirectory(directory)
            .credentials(CredentialStore.ANONYMOUS)
            .maxRetries(0)
            .build());
  }

  /** Returns the query that names the registry in requests to a host other than its server. */
  private String namespace() {
    return "?ns=" + server.host().replace(":", "%3A");
  }

  @Test
  void pushesToAnotherHost_onlyWithAPushHost() throws IOException {
    ImageRef repository = server.ref("team/app:1");

    try (RegistryClient plain = client(false)) {
      assertThat(plain.pushesToAnotherHost(repository)).isFalse();
    }
    try (RegistryClient withPushHost = client(true)) {
      assertThat(withPushHost.pushesToAnotherHost(repository)).isTrue();
    }
  }

  @Test
  void findBlobSizeAtPushHost_asksPushHost() throws IOException {
    server.handle(request -> response(200, "", "Content-Length", "14"));
    pushHost.handle(request -> response(404, ""));

    OptionalLong size;
    try (RegistryClient client = client(true)) {
      size = client.findBlobSizeAtPushHost(server.ref("team/app:1"), DIGEST);
    }

    assertThat(size).isEqualTo(OptionalLong.empty());
    assertThat(pushHost.requestLines())
        .containsExactly("HEAD /v2/team/app/blobs/" + DIGEST + namespace());
    assertThat(server.requests()).isEmpty();
  }

  @Test
  void hasManifestAtPushHost_asksPushHost() throws IOException {
    server.handle(request -> response(200, "{}"));
    pushHost.handle(request -> response(404, ""));

    boolean found;
    try (RegistryClient client = client(true)) {
      found = client.hasManifestAtPushHost(server.ref("team/app:1"), DIGEST);
    }

    assertThat(found).isFalse();
    assertThat(pushHost.requestLines())
        .containsExactly("GET /v2/team/app/manifests/" + DIGEST + namespace());
    assertThat(server.requests()).isEmpty();
  }
}
