package dev.jsoci.convert;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.fetcher.registry.CredentialStore;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryListener;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.testing.LocalRegistry;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Writes blobs to a Distribution registry on loopback through {@link RegistryStore}. */
class RegistryStoreTest {
  @Test
  void newBlobWriter_afterHasBlob_oneHead() throws Exception {
    assumeTrue(
        LocalRegistry.isInstalled(),
        "docker-registry is not installed; install the Debian package docker-registry");
    AtomicInteger heads = new AtomicInteger();
    RegistryListener countHeads =
        new RegistryListener() {
          @Override
          public void responseReceived(String registry, String host, String method, int status) {
            if (method.equals("HEAD")) {
              heads.incrementAndGet();
            }
          }
        };
    byte[] content = new byte[300_000];
    new Random(7).nextBytes(content);
    Descriptor blob =
        Descriptor.of(MediaType.OCI_LAYER_TAR_GZIP, Digest.sha256Of(content), content.length);

    try (LocalRegistry registry = LocalRegistry.start(null);
        RegistryClient client =
            RegistryClient.create(
                RegistryOptions.builder()
                    .hostsDirectory(null)
                    .credentials(CredentialStore.ANONYMOUS)
                    .listener(countHeads)
                    .build())) {
      RegistryStore store = RegistryStore.of(client, ImageRef.parse(registry.host() + "/app:1"));

      boolean present = store.hasBlob(blob.digest());
      boolean stored;
      try (BlobWriter writer = store.newBlobWriter(blob)) {
        writer.write(content);
        stored = writer.commit(blob.digest());
      }

      assertThat(present).isFalse();
      assertThat(stored).isTrue();
      // The writer trusts the caller's check instead of asking the registry again.
      assertThat(heads.get()).isEqualTo(1);
      assertThat(store.hasBlob(blob.digest())).isTrue();
    }
  }
}
