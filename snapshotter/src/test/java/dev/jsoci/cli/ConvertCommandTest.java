package dev.jsoci.cli;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.convert.TestImages.files;
import static dev.jsoci.convert.TestImages.randomBytes;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jsoci.convert.OciLayoutStore;
import dev.jsoci.convert.TestImages;
import dev.jsoci.convert.TestImages.Layer;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.Platform;
import dev.jsoci.testing.LocalRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Runs {@code jsoci convert} and {@code jsoci index info} on OCI image layouts. */
class ConvertCommandTest {
  private static final Platform AMD64 = Platform.of("linux", "amd64");

  @TempDir Path temp;
  private String source;
  private String destination;
  private Layer big;
  private Layer small;
  private Layer corrupt;

  @BeforeEach
  void writeImage() throws IOException {
    OciLayoutStore store = OciLayoutStore.openOrCreate(temp.resolve("source"));
    TestImages images = new TestImages(store);
    big = Layer.gzip(files("bin/tool", randomBytes(200_000, 1)));
    small = Layer.gzip(files("etc/motd", "hi\n"));
    byte[] broken = Layer.gzip(files("bin/other", randomBytes(200_000, 2))).blob();
    for (int i = 3000; i < 3100; i++) {
      broken[i] ^= 0x5a;
    }
    corrupt = new Layer(MediaType.OCI_LAYER_TAR_GZIP, broken, new byte[0]);
    Descriptor amd64 = images.image(AMD64, false, List.of(big, small, corrupt));
    Descriptor arm64 = images.image(Platform.of("linux", "arm64"), false, List.of(small));
    images.index(
        false,
        "v1",
        List.of(
            TestImages.entry(amd64, AMD64, Map.of()),
            TestImages.entry(arm64, Platform.of("linux", "arm64"), Map.of())));
    source = "oci:" + temp.resolve("source") + ":v1";
    destination = "oci:" + temp.resolve("destination") + ":v1";
  }

  /** Output of one command run. */
  private record Run(int status, String out, String err) {}

  private static Run jsoci(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = Main.newCommandLine();
    commandLine.setOut(new PrintWriter(out));
    commandLine.setErr(new PrintWriter(err));
    int status = commandLine.execute(args);
    return new Run(status, out.toString(), err.toString());
  }

  @Test
  void convert_layouts_printsSummaryAndIndexDigest() throws IOException {
    Run run =
        jsoci(
            "convert",
            "--min-layer-size",
            "1000",
            "--platform",
            "linux/amd64",
            source,
            destination);

    assertThat(run.status()).isEqualTo(0);
    String[] lines = run.out().strip().split("\n");
    OciLayoutStore written = OciLayoutStore.open(temp.resolve("destination"));
    assertThat(lines[lines.length - 1]).isEqualTo(written.resolve("v1").digest().toString());
    assertThat(lines[lines.length - 2]).startsWith("new image index written to ");
    assertThat(lines[0]).startsWith("linux/amd64: manifest sha256:");
    assertThat(run.out())
        .contains(
            "skipped layer "
                + small.descriptorDigest()
                + " (linux/amd64): below the minimum layer size of 1000 bytes\n");
    assertThat(run.out()).contains("layers: 1 indexed, 1 skipped, 1 failed; ");
    assertThat(run.err())
        .startsWith(
            "jsoci: layer "
                + corrupt.descriptorDigest()
                + " (linux/amd64) not indexed: layer "
                + corrupt.descriptorDigest()
                + " at byte ");
  }

  @Test
  void convert_nothingIndexed_failsWithOneLine() {
    Run run = jsoci("convert", source, destination);

    assertThat(run.status()).isEqualTo(Main.EXIT_FAILURE);
    assertThat(run.err().lines().filter(line -> line.startsWith("jsoci: " + source)).toList())
        .containsExactly(
            "jsoci: "
                + source
                + ": no zTOC was built, every layer was skipped or failed: 3 layers below the"
                + " minimum layer size of 10485760 bytes");
  }

  @Test
  void convert_failed_removesTheLayoutItCreated() {
    Run run = jsoci("convert", "oci:" + temp.resolve("source") + ":no-such-tag", destination);

    assertThat(run.status()).isEqualTo(Main.EXIT_FAILURE);
    assertThat(run.err()).contains("no image tagged \"no-such-tag\"");
    assertThat(Files.exists(temp.resolve("destination"))).isFalse();
  }

  @Test
  void convert_prefetchFiles_warnsAboutTheUnusable() throws IOException {
    Run run =
        jsoci(
            "convert",
            "--min-layer-size",
            "1000",
            "--platform",
            "linux/amd64",
            "--prefetch-file",
            "/bin/tool",
            "--prefetch-file",
            "/etc/motd",
            "--prefetch-file",
            "/bin",
            source,
            destination);

    assertThat(run.status()).isEqualTo(0);
    assertThat(run.err().lines().filter(line -> line.contains("prefetch")).toList())
        .containsExactly(
            "jsoci: warning: linux/amd64: prefetch file /etc/motd is in no layer with a zTOC;"
                + " it is not prefetched",
            "jsoci: warning: linux/amd64: prefetch file /bin is a directory; it is not"
                + " prefetched");
    Run info = jsoci("index", "info", destination);
    JsonNode layers = new ObjectMapper().readTree(info.out()).path("layers");
    assertThat(layers.get(0).path("prefetch").path("spans").isArray()).isTrue();
    assertThat(layers.get(1).path("prefetch").isMissingNode()).isTrue();
  }

  @Test
  void convert_blankPrefetchFile_isUsageError() {
    Run run = jsoci("convert", "--prefetch-file", " ", source, destination);

    assertThat(run.status()).isEqualTo(Main.EXIT_USAGE);
    assertThat(run.err()).contains("invalid prefetch file \" \": it is blank");
  }

  @Test
  void convert_allPlatformsWithPlatform_isUsageError() {
    Run run = jsoci("convert", "--all-platforms", "--platform", "linux/amd64", source, destination);

    assertThat(run.status()).isEqualTo(Main.EXIT_USAGE);
    assertThat(run.err())
        .isEqualTo(
            "jsoci: --all-platforms and --platform exclude each other (see 'jsoci convert"
                + " --help')\n");
  }

  @Test
  void convert_invalidPlatform_isUsageError() {
    Run run = jsoci("convert", "--platform", "linux", source, destination);

    assertThat(run.status()).isEqualTo(Main.EXIT_USAGE);
    assertThat(run.err())
        .startsWith("jsoci: invalid platform \"linux\", expected os/architecture[/variant]");
  }

  @Test
  void convert_zeroSpanSize_isUsageError() {
    Run run = jsoci("convert", "--span-size", "0", source, destination);

    assertThat(run.status()).isEqualTo(Main.EXIT_USAGE);
    assertThat(run.err()).startsWith("jsoci: invalid --span-size 0: must be at least 1");
  }

  @Test
  void convert_forceGzip_namesSkippedLayerAsWritten() throws IOException {
    OciLayoutStore store = OciLayoutStore.openOrCreate(temp.resolve("plain"));
    TestImages images = new TestImages(store);
    Layer plain = Layer.plain(files("etc/motd", "hi\n"));
    Descriptor manifest = images.image(AMD64, false, List.of(big, plain));
    store.writeManifest(manifest, store.readManifest(manifest.digest()), "v1");

    Run run =
        jsoci(
            "convert",
            "--force-gzip",
            "--min-layer-size",
            "1000",
            "oci:" + temp.resolve("plain") + ":v1",
            destination);

    assertThat(run.status()).isEqualTo(0);
    OciLayoutStore written = OciLayoutStore.open(temp.resolve("destination"));
    ImageIndex index = ImageIndex.parse(written.readManifest(written.resolve("v1").digest()));
    ImageManifest converted =
        ImageManifest.parse(written.readManifest(index.manifests().get(0).digest()));
    Descriptor gzipLayer = converted.layers().get(1);
    assertThat(gzipLayer.digest()).isNotEqualTo(plain.descriptorDigest());
    assertThat(run.out())
        .contains(
            "skipped layer "
                + gzipLayer.digest()
                + " (linux/amd64, re-compressed from "
                + plain.descriptorDigest()
                + "): below the minimum layer size of 1000 bytes");
  }

  @Test
  void convert_spanBelowWindow_warns() {
    Run run = jsoci("convert", "--span-size", "100", source, destination);

    assertThat(run.err())
        .contains(
            "jsoci: warning: --span-size 100 is below the 32768 bytes of window that each"
                + " checkpoint stores, so the zTOCs of gzip layers will be larger than the layers;"
                + " the default is 4194304");
  }

  @Test
  void convert_missingLayout_namesDirectory() {
    Run run = jsoci("convert", "oci:" + temp.resolve("absent") + ":v1", destination);

    assertThat(run.status()).isEqualTo(Main.EXIT_USAGE);
    assertThat(run.err())
        .startsWith(
            "jsoci: SRC: OCI layout directory "
                + temp.resolve("absent")
                + " not found: give an existing directory as oci:DIR[:TAG]");
  }

  @Test
  void convert_directoryWithoutLayout_namesDirectory() throws IOException {
    Files.createDirectories(temp.resolve("empty"));

    Run run = jsoci("convert", "oci:" + temp.resolve("empty") + ":v1", destination);

    assertThat(run.status()).isEqualTo(Main.EXIT_FAILURE);
    assertThat(run.err())
        .isEqualTo(
            "jsoci: oci:"
                + temp.resolve("empty")
                + ": not an OCI image layout, oci-layout is missing\n");
  }

  @Test
  void convert_missingHostsDir_isUsageError() {
    Run run =
        jsoci("convert", "--hosts-dir", temp.resolve("certs.d").toString(), source, destination);

    assertThat(run.status()).isEqualTo(Main.EXIT_USAGE);
    assertThat(run.err())
        .startsWith(
            "jsoci: --hosts-dir "
                + temp.resolve("certs.d")
                + " does not exist: give the directory that holds HOST[:PORT]/hosts.toml, or \"\""
                + " for none");
    assertThat(Files.exists(temp.resolve("destination"))).isFalse();
  }

  @Test
  void convert_hostsDir_usesItsServer() throws IOException {
    assumeTrue(
        LocalRegistry.isInstalled(),
        "docker-registry is not installed; install the Debian package docker-registry");
    try (LocalRegistry registry = LocalRegistry.start(null)) {
      // The name cannot resolve (RFC 6761), so only the hosts.toml can lead to the registry.
      Path hostsFile = temp.resolve("certs.d/registry.invalid/hosts.toml");
      Files.createDirectories(hostsFile.getParent());
      Files.writeString(hostsFile, "server = \"" + registry.url() + "\"\n");

      Run run =
          jsoci(
              "convert",
              "--platform",
              "linux/amd64",
              "--min-layer-size",
              "1000",
              "--hosts-dir",
              temp.resolve("certs.d").toString(),
              source,
              "registry.invalid/app:v1");
      Run info =
          jsoci(
              "index",
              "info",
              "--platform",
              "linux/amd64",
              "--hosts-dir",
              temp.resolve("certs.d").toString(),
              "registry.invalid/app:v1");

      assertThat(run.status()).isEqualTo(0);
      assertThat(info.status()).isEqualTo(0);
      JsonNode json = new ObjectMapper().readTree(info.out());
      assertThat(json.get("layers").get(0).get("ztoc").isObject()).isTrue();
      HttpURLConnection tags =
          (HttpURLConnection)
              URI.create(registry.url() + "/v2/app/tags/list").toURL().openConnection();
      assertThat(new String(tags.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
          .contains("\"v1\"");
    }
  }

  @Test
  void indexInfo_convertedLayout_printsZtocsAndReasons() throws IOException {
    jsoci("convert", "--min-layer-size", "1000", source, destination);

    Run run =
        jsoci(
            "index", "info", "--platform", "linux/amd64", "--min-layer-size", "1000", destination);

    assertThat(run.status()).isEqualTo(0);
    JsonNode json = new ObjectMapper().readTree(run.out());
    assertThat(json.get("image").asText()).isEqualTo(destination);
    assertThat(json.get("platform").asText()).isEqualTo("linux/amd64");
    assertThat(json.get("soci_index").get("version").asText()).isEqualTo("v2");
    JsonNode layers = json.get("layers");
    assertThat(layers.get(0).get("digest").asText()).isEqualTo(big.descriptorDigest());
    assertThat(layers.get(0).get("ztoc").get("span_size").isIntegralNumber()).isTrue();
    assertThat(layers.get(0).get("ztoc").get("span_size").asLong()).isEqualTo(4194304L);
    assertThat(layers.get(1).get("reason").asText())
        .isEqualTo(
            "below the minimum layer size of 1000 bytes, the minimum assumed by"
                + " --min-layer-size; a layer with sparse files gets no zTOC either");
    assertThat(layers.get(2).get("reason").asText())
        .isEqualTo("the SOCI index has no zTOC for this layer");
  }

  @Test
  void indexInfo_unconvertedLayout_saysNoIndex() throws IOException {
    Run run = jsoci("index", "info", "--platform", "linux/arm64", source);

    assertThat(run.status()).isEqualTo(0);
    JsonNode json = new ObjectMapper().readTree(run.out());
    assertThat(json.get("soci_index").isNull()).isTrue();
    assertThat(json.get("layers").get(0).get("reason").asText())
        .isEqualTo("no SOCI index for the image");
  }

  @Test
  void help_documentsDigestOnLastLine() {
    Run run = jsoci("convert", "--help");

    assertThat(run.status()).isEqualTo(0);
    assertThat(run.out().replaceAll("\\s+", " "))
        .contains("The last line of stdout is the digest of the new image index");
  }
}
