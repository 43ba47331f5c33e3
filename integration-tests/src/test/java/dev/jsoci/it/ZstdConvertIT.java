package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.SociAnnotations;
import dev.jsoci.oci.SociIndex;
import dev.jsoci.testing.LocalRegistry;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Converts an image with a zstd layer, made by the {@code zstd} tool and pushed with skopeo to a
 * docker-registry on loopback, with and without {@code --force-gzip}, and reads a file of each
 * result with {@code jsoci image get-file}.
 */
class ZstdConvertIT {
  private static final String MESSAGE = "hello from a zstd layer\n";
  private static final String MIN_LAYER_SIZE = "65536";

  @TempDir static Path work;
  private static LocalRegistry registry;
  private static RegistryClient client;
  private static OciLayout.Layer zstdLayer;

  @BeforeAll
  static void startRegistryAndPushImage() throws Exception {
    assumeTrue(LocalRegistry.isInstalled(), "docker-registry is not installed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/zstd")), "zstd is not installed");

    OciLayout layout = OciLayout.create(work.resolve("layout"));
    byte[] data = new byte[3 << 20];
    new Random(7).nextBytes(data);
    Path zstdTree = work.resolve("tree-zstd");
    Files.createDirectories(zstdTree.resolve("data"));
    Files.createDirectories(zstdTree.resolve("etc"));
    Files.write(zstdTree.resolve("data/zstd.bin"), data);
    Files.writeString(zstdTree.resolve("etc/zstd-message"), MESSAGE);
    OciLayout.Layer tar =
        layout.addTarLayer(zstdTree, List.of("data", "etc"), false, List.of(), work, "zstd");
    Processes.run(List.of("zstd", "-q", "-3", "-f", tar.blob().toString()), work);
    Path zstdBlob = work.resolve("zstd.tar.zst");
    Descriptor zstdDescriptor =
        layout.writeBlob(MediaType.OCI_LAYER_TAR_ZSTD, Files.readAllBytes(zstdBlob));
    zstdLayer = new OciLayout.Layer(zstdDescriptor, tar.diffId(), zstdBlob);

    // A gzip layer above the minimum size, so that a conversion without --force-gzip succeeds.
    byte[] other = new byte[200_000];
    new Random(8).nextBytes(other);
    Path gzipTree = work.resolve("tree-gzip");
    Files.createDirectories(gzipTree.resolve("opt"));
    Files.write(gzipTree.resolve("opt/other.bin"), other);
    OciLayout.Layer gzipLayer =
        layout.addTarLayer(gzipTree, List.of("opt"), true, List.of(), work, "gzip");

    Descriptor manifest = layout.writeImage(SampleImage.AMD64, List.of(zstdLayer, gzipLayer));
    layout.writeIndex(List.of(manifest.toBuilder().platform(SampleImage.AMD64).build()));

    registry = LocalRegistry.start(null);
    layout.pushWithSkopeo(registry.host() + "/zstd:v1");
    client =
        RegistryClient.create(
            RegistryOptions.builder().plainHttp(true).hostsDirectory(null).build());
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

  private static Processes.Result jsoci(String... args) throws Exception {
    Processes.Result result = Processes.jsoci(work, args);
    assertWithMessage(
            "jsoci "
                + String.join(" ", args)
                + "\nstdout: "
                + result.out()
                + "\nstderr: "
                + result.err())
        .that(result.status())
        .isEqualTo(0);
    return result;
  }

  private static String ref(String repositoryAndTag) {
    return registry.host() + "/" + repositoryAndTag;
  }

  @Test
  void convert_forceGzip_recompressesZstdLayer() throws Exception {
    jsoci(
        "convert",
        "--plain-http",
        "--force-gzip",
        "--min-layer-size",
        MIN_LAYER_SIZE,
        ref("zstd:v1"),
        ref("zstd-gzip:v1"));

    ImageRef converted = ImageRef.parse(ref("zstd-gzip:v1"));
    ImageIndex index = ImageIndex.parse(client.fetchManifest(converted).bytes());
    ImageManifest amd64 =
        ImageManifest.parse(
            client.fetchManifest(converted, index.manifests().get(0).digest()).bytes());
    Descriptor gzipLayer = amd64.layers().get(0);
    assertThat(gzipLayer.mediaType()).isEqualTo(MediaType.OCI_LAYER_TAR_GZIP);
    assertThat(gzipLayer.digest()).isNotEqualTo(zstdLayer.descriptor().digest());

    // The gzip layer contains the tar the zstd layer had, so the config's diff_id stays valid.
    byte[] gzipBlob = client.readBlob(converted, gzipLayer);
    byte[] tar;
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipBlob))) {
      tar = in.readAllBytes();
    }
    assertThat(Digest.sha256Of(tar)).isEqualTo(zstdLayer.diffId());

    Descriptor sociEntry = index.manifests().get(1);
    SociIndex soci = SociIndex.parse(client.fetchManifest(converted, sociEntry.digest()).bytes());
    Descriptor ztoc = soci.ztocFor(gzipLayer.digest()).orElseThrow();
    assertThat(ztoc.annotation(SociAnnotations.IMAGE_LAYER_MEDIA_TYPE))
        .isEqualTo(MediaType.OCI_LAYER_TAR_GZIP);

    Path message = work.resolve("zstd-message.out");
    jsoci(
        "image",
        "get-file",
        "--plain-http",
        "--out",
        message.toString(),
        ref("zstd-gzip:v1"),
        "/etc/zstd-message");
    assertThat(Files.readString(message, UTF_8)).isEqualTo(MESSAGE);
  }

  @Test
  void convert_withoutForceGzip_keepsZstdLayerWithReason() throws Exception {
    Processes.Result result =
        jsoci(
            "convert",
            "--plain-http",
            "--min-layer-size",
            MIN_LAYER_SIZE,
            ref("zstd:v1"),
            ref("zstd-kept:v1"));

    assertThat(result.out())
        .contains(
            "skipped layer "
                + zstdLayer.descriptor().digest()
                + " (linux/amd64): zstd compression, which zTOCs do not support (--force-gzip"
                + " re-compresses it)");
    ImageRef converted = ImageRef.parse(ref("zstd-kept:v1"));
    ImageIndex index = ImageIndex.parse(client.fetchManifest(converted).bytes());
    ImageManifest amd64 =
        ImageManifest.parse(
            client.fetchManifest(converted, index.manifests().get(0).digest()).bytes());
    assertThat(amd64.layers().get(0)).isEqualTo(zstdLayer.descriptor());

    // get-file downloads and decompresses a zstd layer that has no zTOC.
    Path message = work.resolve("zstd-kept-message.out");
    jsoci(
        "image",
        "get-file",
        "--plain-http",
        "--out",
        message.toString(),
        ref("zstd-kept:v1"),
        "/etc/zstd-message");
    assertThat(Files.readString(message, UTF_8)).isEqualTo(MESSAGE);
  }
}
