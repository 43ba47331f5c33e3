package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.SpanExtractor;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.TocIndex;
import dev.jsoci.ztoc.Zinfos;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocCodec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code jsoci convert} and {@code jsoci index info} in their own JVMs against real
 * docker-registry processes on loopback, and checks what they pushed with the registry client.
 */
class ConvertIT {
  private static final String MIN_SIZE_REASON = "below the minimum layer size of 10485760 bytes";

  @TempDir static Path work;
  private static LocalRegistry registry;
  private static LocalRegistry otherRegistry;
  private static RegistryClient client;
  private static SampleImage image;

  @BeforeAll
  static void startRegistriesAndPushImage() throws Exception {
    assumeTrue(LocalRegistry.isInstalled(), "docker-registry is not installed");
    assumeTrue(SampleImage.toolsInstalled(), "busybox-static, tar or gzip is not installed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed");

    image = SampleImage.build(work);
    registry = LocalRegistry.start(null);
    otherRegistry = LocalRegistry.start(null);
    image.pushWithSkopeo(registry.host() + "/app:v1");
    client =
        RegistryClient.create(
            RegistryOptions.builder().plainHttp(true).hostsDirectory(null).build());
  }

  @AfterAll
  static void stopRegistries() {
    if (client != null) {
      client.close();
    }
    if (registry != null) {
      registry.close();
    }
    if (otherRegistry != null) {
      otherRegistry.close();
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

  private static String ref(LocalRegistry on, String repositoryAndTag) {
    return on.host() + "/" + repositoryAndTag;
  }

  /** The parts of a converted image, read back from the registry. */
  private record Converted(
      ImageRef reference,
      Descriptor indexDescriptor,
      ImageIndex index,
      ImageManifest amd64,
      Descriptor sociEntry,
      SociIndex soci) {}

  private static Converted readConverted(String reference) throws IOException {
    ImageRef ref = ImageRef.parse(reference);
    var indexContent = client.fetchManifest(ref);
    ImageIndex index = ImageIndex.parse(indexContent.bytes());
    ImageManifest amd64 =
        ImageManifest.parse(client.fetchManifest(ref, index.manifests().get(0).digest()).bytes());
    Descriptor sociEntry = index.manifests().get(2);
    SociIndex soci = SociIndex.parse(client.fetchManifest(ref, sociEntry.digest()).bytes());
    return new Converted(ref, indexContent.descriptor(), index, amd64, sociEntry, soci);
  }

  private static byte[] extract(byte[] ztocBytes, byte[] blob, String path) throws IOException {
    Ztoc ztoc = ZtocCodec.decode(ztocBytes, "zTOC");
    TocEntry entry = TocIndex.of(ztoc, "zTOC").resolve(ByteString.utf8(path));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new SpanExtractor(Zinfos.of(ztoc, "zTOC"), ztoc.spanDigests(), "layer")
        .extract(
            (offset, length) -> Arrays.copyOfRange(blob, (int) offset, (int) offset + length),
            entry.uncompressedOffset(),
            entry.uncompressedSize(),
            out);
    return out.toByteArray();
  }

  @Test
  void convert_registryToRegistry_linksZtocs() throws Exception {
    Processes.Result result =
        jsoci("convert", "--plain-http", ref(registry, "app:v1"), ref(registry, "app-soci:v1"));

    Converted converted = readConverted(ref(registry, "app-soci:v1"));
    assertThat(result.lastLine()).isEqualTo(converted.indexDescriptor().digest().toString());
    assertThat(result.out())
        .contains(
            "skipped layer "
                + image.layers.get("busybox").digest()
                + " (linux/amd64): "
                + MIN_SIZE_REASON);
    assertThat(result.out()).contains("layers: 2 indexed, 1 skipped, 0 failed");

    // Image index: both images, then the SOCI index entry of the host platform.
    List<Descriptor> entries = converted.index().manifests();
    assertThat(converted.index().mediaType()).isEqualTo(MediaType.OCI_INDEX);
    assertThat(entries).hasSize(3);
    assertThat(entries.get(0).platform()).isEqualTo(SampleImage.AMD64);
    assertThat(entries.get(1).platform()).isEqualTo(SampleImage.ARM64);
    Descriptor sociEntry = converted.sociEntry();
    assertThat(sociEntry.artifactType()).isEqualTo(MediaType.SOCI_INDEX_V2);
    assertThat(sociEntry.platform()).isEqualTo(SampleImage.AMD64);
    assertThat(sociEntry.annotation(SociAnnotations.IMAGE_MANIFEST_DIGEST))
        .isEqualTo(entries.get(0).digest().toString());

    // The image manifest links to the index, and so does its entry.
    ImageManifest amd64 = converted.amd64();
    assertThat(amd64.mediaType()).isEqualTo(MediaType.OCI_MANIFEST);
    assertThat(amd64.artifactType()).isEmpty();
    assertThat(amd64.config().mediaType()).isEqualTo(MediaType.OCI_CONFIG);
    assertThat(amd64.annotations().get(SociAnnotations.INDEX_DIGEST))
        .isEqualTo(sociEntry.digest().toString());
    assertThat(entries.get(0).annotation(SociAnnotations.INDEX_DIGEST))
        .isEqualTo(sociEntry.digest().toString());
    assertThat(amd64.layers())
        .containsExactly(
            image.layers.get("big"), image.layers.get("busybox"), image.layers.get("plain"))
        .inOrder();

    // The SOCI index: zTOCs of the gzip and the plain layer, in layer order.
    SociIndex soci = converted.soci();
    assertThat(soci.subject()).isNull();
    assertThat(soci.manifest().config().digest()).isEqualTo(SociIndex.EMPTY_JSON_DIGEST);
    assertThat(soci.ztocs()).hasSize(2);
    assertThat(soci.ztocs().get(0).annotation(SociAnnotations.IMAGE_LAYER_DIGEST))
        .isEqualTo(image.layers.get("big").digest().toString());
    assertThat(soci.ztocs().get(1).annotation(SociAnnotations.IMAGE_LAYER_DIGEST))
        .isEqualTo(image.layers.get("plain").digest().toString());

    // Each zTOC hashes to its descriptor and extracts the original files.
    for (String layer : List.of("big", "plain")) {
      Descriptor ztoc = soci.ztocFor(image.layers.get(layer).digest()).orElseThrow();
      byte[] ztocBytes = client.readBlob(converted.reference(), ztoc);
      assertThat(Digest.sha256Of(ztocBytes)).isEqualTo(ztoc.digest());
      byte[] blob = client.readBlob(converted.reference(), image.layers.get(layer));
      String path = layer.equals("big") ? "data/big.bin" : "data/plain.bin";
      assertWithMessage(path).that(extract(ztocBytes, blob, path)).isEqualTo(image.files.get(path));
    }
    byte[] bigZtoc =
        client.readBlob(
            converted.reference(), soci.ztocFor(image.layers.get("big").digest()).orElseThrow());
    byte[] bigBlob = client.readBlob(converted.reference(), image.layers.get("big"));
    assertThat(new String(extract(bigZtoc, bigBlob, "etc/message"), "UTF-8"))
        .isEqualTo(SampleImage.MESSAGE);
  }

  @Test
  void convert_otherRegistry_copiesLayers() throws Exception {
    Processes.Result sameRegistry =
        jsoci("convert", "--plain-http", ref(registry, "app:v1"), ref(registry, "app-soci:v1"));
    Processes.Result otherRegistryResult =
        jsoci("convert", "--plain-http", ref(registry, "app:v1"), ref(otherRegistry, "app:v1"));

    assertThat(otherRegistryResult.lastLine()).isEqualTo(sameRegistry.lastLine());
    ImageRef copy = ImageRef.parse(ref(otherRegistry, "app:v1"));
    for (Descriptor layer : image.layers.values()) {
      assertWithMessage("layer " + layer.digest() + " in the other registry")
          .that(client.findBlobSize(copy, layer.digest()).isPresent())
          .isTrue();
    }
    // The big layer read back from the copy matches the original bytes.
    assertThat(Digest.sha256Of(client.readBlob(copy, image.layers.get("big"))))
        .isEqualTo(image.layers.get("big").digest());
  }

  @Test
  void convert_twice_givesSameDigest() throws Exception {
    String first =
        jsoci("convert", "--plain-http", ref(registry, "app:v1"), ref(registry, "app-twice:v1"))
            .lastLine();
    String second =
        jsoci("convert", "--plain-http", ref(registry, "app:v1"), ref(registry, "app-twice:v2"))
            .lastLine();
    Processes.Result inPlace =
        jsoci(
            "convert",
            "--plain-http",
            ref(registry, "app-twice:v1"),
            ref(registry, "app-twice:v1"));

    assertThat(second).isEqualTo(first);
    assertThat(inPlace.lastLine()).isEqualTo(first);
    assertThat(readConverted(ref(registry, "app-twice:v1")).index().manifests()).hasSize(3);
  }

  @Test
  void convert_layoutToLayout_matchesRegistry() throws Exception {
    Path out = work.resolve("converted-layout");

    Processes.Result layout = jsoci("convert", "oci:" + image.layout + ":v1", "oci:" + out + ":v1");
    Processes.Result registryResult =
        jsoci("convert", "--plain-http", ref(registry, "app:v1"), ref(registry, "app-soci:v1"));

    assertThat(layout.lastLine()).isEqualTo(registryResult.lastLine());
    Converted converted = readConverted(ref(registry, "app-soci:v1"));
    byte[] indexBytes =
        Files.readAllBytes(
            out.resolve("blobs/sha256").resolve(Digest.parse(layout.lastLine()).encoded()));
    ImageIndex layoutIndex = ImageIndex.parse(indexBytes);
    assertThat(layoutIndex.manifests().get(2).digest()).isEqualTo(converted.sociEntry().digest());
  }

  @Test
  void convert_forceGzip_keepsDiffIds() throws Exception {
    Processes.Result result =
        jsoci(
            "convert",
            "--plain-http",
            "--force-gzip",
            ref(registry, "app:v1"),
            ref(registry, "app-gzip:v1"));

    Converted converted = readConverted(ref(registry, "app-gzip:v1"));
    assertThat(result.lastLine()).isEqualTo(converted.indexDescriptor().digest().toString());
    Descriptor gzipLayer = converted.amd64().layers().get(2);
    assertThat(gzipLayer.mediaType()).isEqualTo(MediaType.OCI_LAYER_TAR_GZIP);
    assertThat(gzipLayer.digest()).isNotEqualTo(image.layers.get("plain").digest());
    ImageManifest original =
        ImageManifest.parse(
            client
                .fetchManifest(
                    ImageRef.parse(ref(registry, "app:v1")), image.amd64Manifest.digest())
                .bytes());
    assertThat(converted.amd64().config().digest()).isEqualTo(original.config().digest());

    // The gzip layer contains the same tar, so the config's diff_id stays valid.
    byte[] gzipBlob = client.readBlob(converted.reference(), gzipLayer);
    byte[] tar;
    try (InputStream in = new GZIPInputStream(new java.io.ByteArrayInputStream(gzipBlob))) {
      tar = in.readAllBytes();
    }
    assertThat(Digest.sha256Of(tar)).isEqualTo(image.diffIds.get("plain"));

    Descriptor ztoc = converted.soci().ztocFor(gzipLayer.digest()).orElseThrow();
    assertThat(ztoc.annotation(SociAnnotations.IMAGE_LAYER_MEDIA_TYPE))
        .isEqualTo(MediaType.OCI_LAYER_TAR_GZIP);
    byte[] ztocBytes = client.readBlob(converted.reference(), ztoc);
    assertThat(extract(ztocBytes, gzipBlob, "data/plain.bin"))
        .isEqualTo(image.files.get("data/plain.bin"));
  }

  @Test
  void indexInfo_convertedImage_listsZtocsAndReasons() throws Exception {
    jsoci("convert", "--plain-http", ref(registry, "app:v1"), ref(registry, "app-info:v1"));

    Processes.Result result = jsoci("index", "info", "--plain-http", ref(registry, "app-info:v1"));

    JsonNode json = new ObjectMapper().readTree(result.out());
    Converted converted = readConverted(ref(registry, "app-info:v1"));
    assertThat(json.get("platform").asText()).isEqualTo("linux/amd64");
    assertThat(json.get("soci_index").get("digest").asText())
        .isEqualTo(converted.sociEntry().digest().toString());
    JsonNode layers = json.get("layers");
    assertThat(layers.size()).isEqualTo(3);
    assertThat(layers.get(0).get("ztoc").get("digest").asText())
        .isEqualTo(converted.soci().ztocs().get(0).digest().toString());
    assertThat(layers.get(0).get("ztoc").get("size").asLong())
        .isEqualTo(converted.soci().ztocs().get(0).size());
    assertThat(layers.get(1).get("ztoc").isNull()).isTrue();
    assertThat(layers.get(1).get("reason").asText())
        .isEqualTo(
            MIN_SIZE_REASON
                + ", the minimum assumed by --min-layer-size; a layer with sparse files gets no"
                + " zTOC either");
    assertThat(layers.get(2).get("media_type").asText()).isEqualTo(MediaType.OCI_LAYER_TAR);
  }

  @Test
  void indexInfo_unconvertedImage_hasNoIndex() throws Exception {
    Processes.Result result =
        jsoci(
            "index", "info", "--plain-http", "--platform", "linux/arm64", ref(registry, "app:v1"));

    JsonNode json = new ObjectMapper().readTree(result.out());
    assertThat(json.get("platform").asText()).isEqualTo("linux/arm64");
    assertThat(json.get("soci_index").isNull()).isTrue();
    for (JsonNode layer : json.get("layers")) {
      assertThat(layer.get("reason").asText()).isEqualTo("no SOCI index for the image");
    }
  }

  @Test
  void convert_missingImage_failsWithOneLine() throws Exception {
    Processes.Result result =
        Processes.jsoci(
            work, "convert", "--plain-http", ref(registry, "absent:v1"), ref(registry, "x:v1"));

    assertThat(result.status()).isEqualTo(1);
    assertThat(result.err().strip().lines().count()).isEqualTo(1);
    assertThat(result.err()).startsWith("jsoci: ");
    assertThat(result.err()).contains("absent");
  }
}
