package dev.jsoci.snapshotter.unpack;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.convert.TestImages.files;
import static dev.jsoci.convert.TestImages.randomBytes;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.convert.TestImages;
import dev.jsoci.fetcher.registry.CredentialStore;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fs.OpaqueXattr;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.testing.LocalRegistry;
import dev.jsoci.ztoc.zstd.ZstdFormatException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Downloads and unpacks zstd layer blobs served by a real Distribution registry. */
class LayerDownloaderZstdTest {
  private static LocalRegistry registry;
  private static RegistryClient client;

  @TempDir Path work;

  @BeforeAll
  static void startRegistry() throws IOException {
    assumeTrue(
        LocalRegistry.isInstalled(),
        "docker-registry is not installed; install the Debian package docker-registry");
    registry = LocalRegistry.start(null);
    client =
        RegistryClient.create(
            RegistryOptions.builder()
                .hostsDirectory(null)
                .credentials(CredentialStore.ANONYMOUS)
                .build());
  }

  @AfterAll
  static void stopRegistry() {
    if (client != null) {
      client.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  private static ImageRef repository() {
    return ImageRef.parse(registry.host() + "/zstd-layers:latest");
  }

  private static Descriptor push(byte[] blob) throws IOException {
    return client.pushBlob(
        repository(), MediaType.OCI_LAYER_TAR_ZSTD, new ByteArrayInputStream(blob));
  }

  private LayerUnpacker.Summary unpack(Descriptor layer, Digest diffId) throws IOException {
    LayerDownloader downloader =
        new LayerDownloader(client, LayerUnpacker.forCurrentUser(OpaqueXattr.TRUSTED));
    return downloader.unpack(
        repository(), layer, diffId, work.resolve("layer"), work.resolve("layer.tar"));
  }

  @Test
  void unpack_multiFrameZstd_writesFiles() throws IOException {
    byte[] tool = randomBytes(300_000, 1);
    byte[] tar = TestImages.tar(files("bin/tool", tool, "etc/motd", "zstd layer\n"));
    Files.createDirectories(work.resolve("layer"));
    Descriptor layer = push(TestImages.zstd(tar, 1000, tar.length / 2));

    LayerUnpacker.Summary summary = unpack(layer, Digest.sha256Of(tar));

    assertThat(summary.entries()).isEqualTo(2);
    assertThat(Files.readAllBytes(work.resolve("layer/bin/tool"))).isEqualTo(tool);
    assertThat(Files.readString(work.resolve("layer/etc/motd"))).isEqualTo("zstd layer\n");
    assertThat(Files.exists(work.resolve("layer.tar"))).isFalse();
  }

  @Test
  void unpack_zstdNotMatchingDiffId_fails() throws IOException {
    byte[] tar = TestImages.tar(files("etc/motd", "zstd layer\n"));
    Digest otherDiffId = Digest.sha256Of(TestImages.tar(files("etc/motd", "other\n")));
    Files.createDirectories(work.resolve("layer"));
    Descriptor layer = push(TestImages.zstd(tar));

    IOException e = assertThrows(IOException.class, () -> unpack(layer, otherDiffId));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer "
                + layer.digest()
                + ": uncompressed digest "
                + Digest.sha256Of(tar)
                + " does not match the config's diff_id "
                + otherDiffId);
    assertThat(Files.exists(work.resolve("layer/etc/motd"))).isFalse();
    assertThat(Files.exists(work.resolve("layer.tar"))).isFalse();
  }

  @Test
  void unpack_corruptZstd_namesLayer() throws IOException {
    byte[] tar = TestImages.tar(files("bin/tool", randomBytes(100_000, 2)));
    byte[] blob = TestImages.zstd(tar);
    for (int i = blob.length / 2; i < blob.length / 2 + 16; i++) {
      blob[i] ^= 0x3c;
    }
    Files.createDirectories(work.resolve("layer"));
    Descriptor layer = push(blob);

    ZstdFormatException e =
        assertThrows(ZstdFormatException.class, () -> unpack(layer, Digest.sha256Of(tar)));

    assertThat(e)
        .hasMessageThat()
        .startsWith("layer " + layer.digest() + ": invalid zstd data at or after compressed byte");
    assertThat(Files.exists(work.resolve("layer.tar"))).isFalse();
  }
}
