package dev.jsoci.snapshotter.unpack;

import static com.google.common.truth.Truth.assertThat;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.fetcher.registry.CredentialStore;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fs.OpaqueXattr;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.testing.LocalRegistry;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Downloads hostile layers from a real registry (Debian's docker-registry on loopback) through the
 * path that the daemon and {@code jsoci mount} use to unpack a layer, and checks that nothing is
 * written outside the layer directory. Skipped when docker-registry is not installed.
 */
class LayerDownloaderTest {
  private static LocalRegistry registry;
  private static RegistryClient client;

  @TempDir Path work;

  @BeforeAll
  static void startRegistry() throws IOException {
    assumeTrue(LocalRegistry.isInstalled(), "needs /usr/bin/docker-registry");
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

  private Descriptor push(ImageRef repository, byte[] tar) throws IOException {
    ByteArrayOutputStream gzip = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gzip)) {
      out.write(tar);
    }
    return client.pushBlob(
        repository, MediaType.OCI_LAYER_TAR_GZIP, new ByteArrayInputStream(gzip.toByteArray()));
  }

  @Test
  void hostileLayers_writeNothingOutside() throws IOException {
    ImageRef repository = ImageRef.parse(registry.host() + "/hostile/app:1");
    Path outside = Files.createDirectories(work.resolve("outside"));
    List<byte[]> layers =
        List.of(
            tar(entry("../escaped", '0', "", "x"), end()),
            tar(entry("h", '1', "../../../etc/passwd", ""), end()));

    for (int i = 0; i < layers.size(); i++) {
      Descriptor blob = push(repository, layers.get(i));
      Path directory = Files.createDirectories(work.resolve("layer" + i));
      Path temporaryTar = work.resolve("layer" + i + ".tar");
      LayerDownloader downloader =
          new LayerDownloader(client, LayerUnpacker.forCurrentUser(OpaqueXattr.TRUSTED));

      IOException e =
          assertThrows(
              IOException.class,
              () -> downloader.unpack(repository, blob, null, directory, temporaryTar));

      assertThat(e).hasMessageThat().contains(blob.digest().toString());
      assertThat(Files.exists(temporaryTar)).isFalse();
      assertThat(list(outside)).isEmpty();
      assertThat(Files.exists(work.resolve("escaped"))).isFalse();
    }

    // A link to a host path is followed by name, inside the layer.
    Descriptor linked =
        push(
            repository,
            tar(
                entry("link", '2', outside.toString(), ""),
                entry("link/escaped", '0', "", "x"),
                end()));
    Path directory = Files.createDirectories(work.resolve("linked"));
    new LayerDownloader(client, LayerUnpacker.forCurrentUser(OpaqueXattr.TRUSTED))
        .unpack(repository, linked, null, directory, work.resolve("linked.tar"));
    assertThat(list(outside)).isEmpty();
    assertThat(
            Files.readString(directory.resolve(outside.toString().substring(1)).resolve("escaped")))
        .isEqualTo("x");
  }

  @Test
  void corruptGzip_namesLayerAndFix() throws IOException {
    ImageRef repository = ImageRef.parse(registry.host() + "/corrupt/app:1");
    ByteArrayOutputStream gzip = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gzip)) {
      out.write(tar(entry("file", '0', "", "content"), end()));
    }
    byte[] damaged = gzip.toByteArray();
    // The CRC-32 of the trailer no longer matches the data; the blob's digest is of these bytes.
    damaged[damaged.length - 8] ^= 0x01;
    Descriptor blob =
        client.pushBlob(
            repository, MediaType.OCI_LAYER_TAR_GZIP, new ByteArrayInputStream(damaged));
    Path directory = Files.createDirectories(work.resolve("layer"));
    LayerDownloader downloader =
        new LayerDownloader(client, LayerUnpacker.forCurrentUser(OpaqueXattr.TRUSTED));

    IOException e =
        assertThrows(
            IOException.class,
            () -> downloader.unpack(repository, blob, null, directory, work.resolve("layer.tar")));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer "
                + blob.digest()
                + " of "
                + repository
                + " is not valid gzip (Corrupt GZIP trailer): the blob was damaged in the registry"
                + " or before it was pushed; push the image again");
    assertThat(Files.exists(work.resolve("layer.tar"))).isFalse();
  }

  private static List<String> list(Path directory) throws IOException {
    try (Stream<Path> entries = Files.list(directory)) {
      return entries.map(path -> path.getFileName().toString()).toList();
    }
  }

  private static byte[] tar(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  private static byte[] end() {
    return new byte[1024];
  }

  /** Returns a ustar header for {@code name} followed by {@code content} padded to 512 bytes. */
  private static byte[] entry(String name, char type, String linkName, String content) {
    byte[] data = content.getBytes(UTF_8);
    byte[] block = new byte[512];
    put(block, 0, name.getBytes(UTF_8));
    put(block, 100, octal(0644, 8));
    put(block, 108, octal(0, 8));
    put(block, 116, octal(0, 8));
    put(block, 124, octal(data.length, 12));
    put(block, 136, octal(1_700_000_000L, 12));
    Arrays.fill(block, 148, 156, (byte) ' ');
    block[156] = (byte) type;
    put(block, 157, linkName.getBytes(UTF_8));
    put(block, 257, "ustar\0".getBytes(UTF_8));
    put(block, 263, "00".getBytes(UTF_8));
    int checksum = 0;
    for (byte b : block) {
      checksum += b & 0xff;
    }
    put(block, 148, octal(checksum, 8));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(block);
    out.writeBytes(data);
    out.writeBytes(new byte[(512 - data.length % 512) % 512]);
    return out.toByteArray();
  }

  private static byte[] octal(long value, int width) {
    String text = String.format("%0" + (width - 1) + "o", value);
    return Arrays.copyOf(text.getBytes(UTF_8), width);
  }

  private static void put(byte[] block, int offset, byte[] bytes) {
    System.arraycopy(bytes, 0, block, offset, bytes.length);
  }
}
