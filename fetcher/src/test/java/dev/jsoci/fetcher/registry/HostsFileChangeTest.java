package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.testing.LocalRegistry;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Range reads of one blob while the hosts.toml of its registry changes, with two registries. */
class HostsFileChangeTest {
  @TempDir Path directory;

  @Test
  void readRange_afterServerChange_usesNewServer() throws Exception {
    assumeTrue(
        LocalRegistry.isInstalled(),
        "docker-registry is not installed; install the Debian package docker-registry");
    byte[] content = new byte[20_000];
    new Random(11).nextBytes(content);
    Descriptor blob =
        Descriptor.of(MediaType.OCI_LAYER_TAR_GZIP, Digest.sha256Of(content), content.length);
    List<String> readFrom = new CopyOnWriteArrayList<>();
    RegistryListener recordGets =
        new RegistryListener() {
          @Override
          public void responseReceived(String registry, String host, String method, int status) {
            if (method.equals("GET")) {
              readFrom.add(host);
            }
          }
        };

    try (LocalRegistry first = LocalRegistry.start(null);
        LocalRegistry second = LocalRegistry.start(null);
        RegistryClient direct = client(null, RegistryListener.NONE)) {
      for (LocalRegistry registry : List.of(first, second)) {
        direct.pushBlob(
            ImageRef.parse(registry.host() + "/app:1"),
            blob,
            () -> new ByteArrayInputStream(content));
      }
      // The name cannot resolve (RFC 6761), so only the hosts.toml leads to a registry.
      Path file = directory.resolve("registry.invalid/hosts.toml");
      Files.createDirectories(file.getParent());
      Files.writeString(file, "server = \"" + first.url() + "\"\n");
      ImageRef image = ImageRef.parse("registry.invalid/app:1");

      byte[] before;
      byte[] after;
      try (RegistryClient client = client(directory, recordGets)) {
        before = client.readBlobRange(image, blob.digest(), 0, 100, content.length);
        Files.writeString(file, "server = \"" + second.url() + "\"\n");
        // A later time than the first version, whatever the file system's time resolution.
        Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
        after = client.readBlobRange(image, blob.digest(), 100, 100, content.length);
      }

      assertThat(before).isEqualTo(Arrays.copyOfRange(content, 0, 100));
      assertThat(after).isEqualTo(Arrays.copyOfRange(content, 100, 200));
      assertThat(readFrom).containsExactly(first.host(), second.host()).inOrder();
    }
  }

  private static RegistryClient client(Path hostsDirectory, RegistryListener listener) {
    return RegistryClient.create(
        RegistryOptions.builder()
            .hostsDirectory(hostsDirectory)
            .credentials(CredentialStore.ANONYMOUS)
            .listener(listener)
            .build());
  }
}
