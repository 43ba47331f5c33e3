package dev.jsoci.convert;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.jsoci.convert.TestImages.files;
import static dev.jsoci.convert.TestImages.randomBytes;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.convert.LayerReport.Outcome;
import dev.jsoci.convert.TestImages.Layer;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.Platform;
import dev.jsoci.oci.PrefetchArtifact;
import dev.jsoci.oci.PrefetchArtifact.SpanRange;
import dev.jsoci.oci.SociAnnotations;
import dev.jsoci.oci.SociIndex;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.Zinfos;
import dev.jsoci.ztoc.ZtocCodec;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Converts hand-made images between OCI image layouts and checks every JSON document written. */
class ConverterTest {
  private static final Platform AMD64 = Platform.of("linux", "amd64");
  private static final Platform ARM64 = Platform.of("linux", "arm64", "v8");
  private static final long MIN_LAYER_SIZE = 1000;

  @TempDir Path temp;
  private OciLayoutStore source;
  private OciLayoutStore destination;
  private TestImages images;

  private final Layer amd64Big =
      Layer.gzip(files("bin/tool", randomBytes(300_000, 1), "etc/amd64", "x86 text\n"));
  private final Layer arm64Big =
      Layer.gzip(files("bin/tool", randomBytes(250_000, 2), "etc/arm64", "arm text\n"));
  private final Layer small = Layer.gzip(files("etc/motd", "hello\n"));

  @BeforeEach
  void createStores() throws IOException {
    source = OciLayoutStore.openOrCreate(temp.resolve("source"));
    destination = OciLayoutStore.openOrCreate(temp.resolve("destination"));
    images = new TestImages(source);
  }

  private ConvertOptions.Builder options() {
    return ConvertOptions.builder("jsoci test")
        .minLayerSizeBytes(MIN_LAYER_SIZE)
        .spanSizeBytes(64 * 1024)
        .hostPlatform(AMD64);
  }

  private ConvertResult convert(ConvertOptions options, ImageStore from, String tag, ImageStore to)
      throws IOException {
    return new Converter(options, ConvertListener.NONE).convert(from, tag, to, "converted");
  }

  /** Writes a two-platform OCI index tagged {@code v1}; the entries carry an annotation. */
  private Descriptor twoPlatformImage(boolean docker) throws IOException {
    Descriptor amd64 = images.image(AMD64, docker, List.of(amd64Big, small));
    Descriptor arm64 = images.image(ARM64, docker, List.of(arm64Big, small));
    return images.index(
        docker,
        "v1",
        List.of(
            TestImages.entry(amd64, AMD64, Map.of("org.example.entry-only", "dropped")),
            TestImages.entry(arm64, ARM64, Map.of())));
  }

  private ImageIndex readIndex(OciLayoutStore store, String tag) throws IOException {
    return ImageIndex.parse(store.readManifest(store.resolve(tag).digest()));
  }

  private ImageManifest readManifest(OciLayoutStore store, Digest digest) throws IOException {
    return ImageManifest.parse(store.readManifest(digest));
  }

  private static byte[] readBlob(ImageStore store, Descriptor blob) throws IOException {
    try (InputStream in = store.openBlob(blob)) {
      return in.readAllBytes();
    }
  }

  @Test
  void largestFirst_ordersBySizeDescending() {
    Descriptor small =
        Descriptor.of(MediaType.OCI_LAYER_TAR_GZIP, Digest.sha256Of(new byte[1]), 10);
    Descriptor large =
        Descriptor.of(MediaType.OCI_LAYER_TAR_GZIP, Digest.sha256Of(new byte[2]), 30);
    Descriptor middle =
        Descriptor.of(MediaType.OCI_LAYER_TAR_GZIP, Digest.sha256Of(new byte[3]), 20);
    Descriptor alsoMiddle =
        Descriptor.of(MediaType.OCI_LAYER_TAR_GZIP, Digest.sha256Of(new byte[4]), 20);

    List<Descriptor> ordered = Converter.largestFirst(List.of(small, middle, large, alsoMiddle));

    assertThat(ordered).containsExactly(large, middle, alsoMiddle, small).inOrder();
  }

  @Test
  void convert_multiPlatformIndex_linksHostPlatform() throws IOException {
    twoPlatformImage(false);

    ConvertResult result = convert(options().build(), source, "v1", destination);

    ImageIndex index = readIndex(destination, "converted");
    assertThat(index.mediaType()).isEqualTo(MediaType.OCI_INDEX);
    assertThat(index.manifests()).hasSize(3);
    Descriptor amd64Entry = index.manifests().get(0);
    Descriptor arm64Entry = index.manifests().get(1);
    Descriptor sociEntry = index.manifests().get(2);

    // The SOCI index entry comes last, with the platform of its image and the back link.
    assertThat(sociEntry.mediaType()).isEqualTo(MediaType.OCI_MANIFEST);
    assertThat(sociEntry.artifactType()).isEqualTo(MediaType.SOCI_INDEX_V2);
    assertThat(sociEntry.platform()).isEqualTo(AMD64);
    assertThat(sociEntry.annotations())
        .containsExactly(SociAnnotations.IMAGE_MANIFEST_DIGEST, amd64Entry.digest().toString());

    // The image manifest it names is an OCI manifest that links to the SOCI index.
    ImageManifest amd64 = readManifest(destination, amd64Entry.digest());
    assertThat(amd64.mediaType()).isEqualTo(MediaType.OCI_MANIFEST);
    assertThat(amd64.artifactType()).isEmpty();
    assertThat(amd64.config().mediaType()).isEqualTo(MediaType.OCI_CONFIG);
    assertThat(amd64.annotations())
        .containsExactly(SociAnnotations.INDEX_DIGEST, sociEntry.digest().toString());
    assertThat(amd64Entry.annotations()).isEqualTo(amd64.annotations());
    assertThat(amd64Entry.mediaType()).isEqualTo(MediaType.OCI_MANIFEST);
    assertThat(amd64Entry.size()).isEqualTo(amd64.toBytes().length);
    assertThat(amd64Entry.platform()).isEqualTo(AMD64);

    // The other platform is rewritten too, but without a link.
    ImageManifest arm64 = readManifest(destination, arm64Entry.digest());
    assertThat(arm64.annotations()).isEmpty();
    assertThat(arm64Entry.annotations()).isEmpty();
    assertThat(arm64Entry.platform()).isEqualTo(ARM64);

    // The SOCI index: one zTOC for the big layer, the {} config, the build tool annotation.
    byte[] sociBytes = destination.readManifest(sociEntry.digest());
    assertThat(sociBytes).hasLength((int) sociEntry.size());
    SociIndex soci = SociIndex.parse(sociBytes);
    assertThat(soci.toBytes()).isEqualTo(sociBytes);
    assertThat(soci.version()).isEqualTo(SociIndex.Version.V2);
    assertThat(soci.subject()).isNull();
    assertThat(soci.annotations())
        .containsExactly(SociAnnotations.BUILD_TOOL_IDENTIFIER, "jsoci test");
    assertThat(destination.hasBlob(SociIndex.EMPTY_JSON_DIGEST)).isTrue();
    assertThat(soci.ztocs()).hasSize(1);
    Descriptor ztoc = soci.ztocs().get(0);
    Descriptor bigLayer = amd64.layers().get(0);
    assertThat(ztoc.annotations())
        .containsExactly(
            SociAnnotations.IMAGE_LAYER_DIGEST,
            bigLayer.digest().toString(),
            SociAnnotations.IMAGE_LAYER_MEDIA_TYPE,
            MediaType.OCI_LAYER_TAR_GZIP,
            SociAnnotations.SPAN_SIZE,
            "65536");

    // The zTOC bytes hash to their descriptor and find every file of the layer.
    byte[] ztocBytes = readBlob(destination, ztoc);
    assertThat(Digest.sha256Of(ztocBytes)).isEqualTo(ztoc.digest());
    byte[] layerBlob = readBlob(destination, bigLayer);
    assertThat(TestImages.extractFile(ztocBytes, layerBlob, "bin/tool"))
        .isEqualTo(randomBytes(300_000, 1));
    assertThat(new String(TestImages.extractFile(ztocBytes, layerBlob, "etc/amd64")))
        .isEqualTo("x86 text\n");

    // Layers and configs of both platforms were copied.
    for (ImageManifest manifest : List.of(amd64, arm64)) {
      assertThat(destination.hasBlob(manifest.config().digest())).isTrue();
      for (Descriptor layer : manifest.layers()) {
        assertThat(destination.hasBlob(layer.digest())).isTrue();
      }
    }

    assertThat(result.count(Outcome.INDEXED)).isEqualTo(1);
    assertThat(result.count(Outcome.SKIPPED)).isEqualTo(1);
    assertThat(result.layers().get(1).reason())
        .isEqualTo("below the minimum layer size of 1000 bytes");
    assertThat(result.index().digest()).isEqualTo(destination.resolve("converted").digest());
    assertThat(result.uploadedBytes()).isGreaterThan(amd64Big.blob().length);
  }

  @Test
  void convert_prefetchFiles_listTopMostLayerSpans() throws IOException {
    Map<String, byte[]> lowerFiles =
        files(
            "app/a", randomBytes(300_000, 3),
            "app/shared", randomBytes(100_000, 4),
            "./app/dotted", randomBytes(200_000, 5));
    Map<String, byte[]> upperFiles =
        files("app/b", randomBytes(300_000, 6), "app/shared", randomBytes(150_000, 7));
    Layer lower = Layer.gzip(lowerFiles);
    Layer upper = Layer.gzip(upperFiles);
    Layer middle = Layer.gzip(files("app/small", "below the minimum size\n"));
    Descriptor manifest = images.image(AMD64, false, List.of(lower, middle, upper));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");
    ConvertOptions options =
        options()
            .prefetchFiles(
                List.of("/app/a", "app/shared", " /app/./x/../dotted ", "/app/small", "/missing"))
            .build();

    ConvertResult result = convert(options, source, "v1", destination);

    // Each file is found in the top-most layer with a zTOC that has it, by its cleaned name.
    assertThat(result.platforms().get(0).prefetchWarnings())
        .containsExactly(
            "prefetch file /app/small is in no layer with a zTOC",
            "prefetch file /missing is in no layer with a zTOC")
        .inOrder();
    SociIndex soci =
        SociIndex.parse(destination.readManifest(result.platforms().get(0).sociIndex().digest()));
    List<Descriptor> layersInIndex = soci.manifest().layers();
    assertThat(layersInIndex).hasSize(4);
    assertThat(layersInIndex.subList(0, 2)).isEqualTo(soci.ztocs());
    assertThat(layersInIndex.subList(2, 4)).isEqualTo(soci.prefetches());
    assertThat(soci.prefetches().get(0).annotations())
        .containsExactly(SociAnnotations.IMAGE_LAYER_DIGEST, lower.descriptorDigest());
    assertThat(soci.prefetches().get(1).annotations())
        .containsExactly(SociAnnotations.IMAGE_LAYER_DIGEST, upper.descriptorDigest());

    // The spans run from the one holding a file's first byte to the one holding the offset after
    // its last, computed here from the tar layout.
    PrefetchArtifact lowerArtifact = readPrefetch(soci.prefetches().get(0));
    Zinfo lowerZinfo = zinfoOf(soci.ztocs().get(0));
    List<SpanRange> expectedLower = new ArrayList<>();
    expectedLower.add(spansOfFile(lowerZinfo, lowerFiles, "app/a"));
    expectedLower.add(spansOfFile(lowerZinfo, lowerFiles, "./app/dotted"));
    assertThat(lowerArtifact).isEqualTo(PrefetchArtifact.merging(expectedLower));
    assertThat(lowerArtifact.spanCount()).isGreaterThan(3);

    PrefetchArtifact upperArtifact = readPrefetch(soci.prefetches().get(1));
    SpanRange shared = spansOfFile(zinfoOf(soci.ztocs().get(1)), upperFiles, "app/shared");
    assertThat(shared.startSpan()).isGreaterThan(0);
    assertThat(upperArtifact.spans()).containsExactly(shared);
  }

  private PrefetchArtifact readPrefetch(Descriptor prefetch) throws IOException {
    byte[] bytes = readBlob(destination, prefetch);
    assertThat(Digest.sha256Of(bytes)).isEqualTo(prefetch.digest());
    assertThat(prefetch.mediaType()).isEqualTo(MediaType.SOCI_PREFETCH);
    return PrefetchArtifact.parse(bytes);
  }

  private Zinfo zinfoOf(Descriptor ztoc) throws IOException {
    return Zinfos.of(ZtocCodec.decode(readBlob(destination, ztoc), "test zTOC"), "test zTOC");
  }

  /** Returns the spans of {@code name}'s data in a tar written by {@link TestImages#tar}. */
  private static SpanRange spansOfFile(Zinfo zinfo, Map<String, byte[]> files, String name) {
    long offset = 0;
    for (Map.Entry<String, byte[]> file : files.entrySet()) {
      long dataOffset = offset + 512;
      long size = file.getValue().length;
      if (file.getKey().equals(name)) {
        return SpanRange.of(zinfo.spanOf(dataOffset), zinfo.spanOf(dataOffset + size));
      }
      offset = dataOffset + (size + 511) / 512 * 512;
    }
    throw new IllegalArgumentException(name + " is not in the layer");
  }

  @Test
  void convert_xattrOptimization_marksLayersWithoutXattrs() throws IOException {
    Layer plain = Layer.gzip(files("bin/tool", randomBytes(300_000, 8)));
    Layer opaque =
        Layer.gzip(files("etc/.wh..wh..opq", new byte[0], "etc/big", randomBytes(300_000, 9)));
    Descriptor manifest = images.image(AMD64, false, List.of(plain, opaque));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");

    ConvertResult result =
        convert(options().xattrOptimization(true).build(), source, "v1", destination);

    SociIndex soci =
        SociIndex.parse(destination.readManifest(result.platforms().get(0).sociIndex().digest()));
    assertThat(soci.ztocs()).hasSize(2);
    assertThat(soci.ztocs().get(0).annotation(SociAnnotations.DISABLE_XATTRS)).isEqualTo("true");
    assertThat(soci.ztocs().get(1).annotation(SociAnnotations.DISABLE_XATTRS)).isNull();
  }

  @Test
  void convert_twice_givesSameDigest() throws IOException {
    twoPlatformImage(false);
    OciLayoutStore other = OciLayoutStore.openOrCreate(temp.resolve("other"));

    Digest first = convert(options().build(), source, "v1", destination).index().digest();
    Digest second = convert(options().build(), source, "v1", other).index().digest();
    Digest again = convert(options().build(), source, "v1", destination).index().digest();

    assertThat(second).isEqualTo(first);
    assertThat(again).isEqualTo(first);
  }

  @Test
  void convert_convertedImage_replacesSociEntryInPlace() throws IOException {
    twoPlatformImage(false);
    ConvertResult first = convert(options().build(), source, "v1", destination);

    ConvertResult second = convert(options().build(), destination, "converted", destination);

    assertThat(second.index().digest()).isEqualTo(first.index().digest());
    assertThat(readIndex(destination, "converted").manifests()).hasSize(3);
    assertThat(second.uploadedBytes()).isEqualTo(0);
  }

  @Test
  void convert_secondPlatform_keepsFirstSociEntry() throws IOException {
    twoPlatformImage(false);
    convert(options().build(), source, "v1", destination);
    ImageIndex amd64Only = readIndex(destination, "converted");

    ConvertOptions arm64 = options().platforms(List.of(Platform.of("linux", "arm64"))).build();
    convert(arm64, destination, "converted", destination);

    List<Descriptor> entries = readIndex(destination, "converted").manifests();
    assertThat(entries).hasSize(4);
    assertThat(entries.get(0)).isEqualTo(amd64Only.manifests().get(0));
    assertThat(entries.get(2)).isEqualTo(amd64Only.manifests().get(2));
    Descriptor arm64Soci = entries.get(3);
    assertThat(arm64Soci.platform()).isEqualTo(ARM64);
    assertThat(arm64Soci.annotation(SociAnnotations.IMAGE_MANIFEST_DIGEST))
        .isEqualTo(entries.get(1).digest().toString());
    assertThat(entries.get(1).annotation(SociAnnotations.INDEX_DIGEST))
        .isEqualTo(arm64Soci.digest().toString());
  }

  @Test
  void convert_allPlatforms_skipsUnknownPlatform() throws IOException {
    Descriptor amd64 = images.image(AMD64, false, List.of(amd64Big));
    Descriptor arm64 = images.image(ARM64, false, List.of(arm64Big));
    Descriptor attestation =
        images.image(Platform.of("unknown", "unknown"), false, List.of(arm64Big));
    images.index(
        false,
        "v1",
        List.of(
            TestImages.entry(amd64, AMD64, Map.of()),
            TestImages.entry(arm64, ARM64, Map.of()),
            TestImages.entry(
                attestation,
                Platform.of("unknown", "unknown"),
                Map.of("vnd.docker.reference.type", "attestation-manifest"))));

    ConvertResult result = convert(options().allPlatforms(true).build(), source, "v1", destination);

    List<Descriptor> entries = readIndex(destination, "converted").manifests();
    assertThat(entries).hasSize(5);
    assertThat(entries.get(3).platform()).isEqualTo(AMD64);
    assertThat(entries.get(4).platform()).isEqualTo(ARM64);
    assertThat(entries.get(3).annotation(SociAnnotations.IMAGE_MANIFEST_DIGEST))
        .isEqualTo(entries.get(0).digest().toString());
    assertThat(entries.get(4).annotation(SociAnnotations.IMAGE_MANIFEST_DIGEST))
        .isEqualTo(entries.get(1).digest().toString());
    // Entry-only annotations are lost in the rewrite, as soci convert loses them.
    assertThat(entries.get(2).annotations()).isEmpty();
    assertThat(result.platforms()).hasSize(2);
  }

  @Test
  void convert_dockerManifestList_becomesOciIndex() throws IOException {
    Layer dockerBig = amd64Big.withMediaType(MediaType.DOCKER_LAYER_TAR_GZIP);
    Layer dockerSmall = small.withMediaType(MediaType.DOCKER_LAYER_TAR_GZIP);
    Descriptor amd64 = images.image(AMD64, true, List.of(dockerBig, dockerSmall));
    Descriptor arm64 = images.image(ARM64, true, List.of(dockerSmall));
    images.index(
        true,
        "v1",
        List.of(
            TestImages.entry(amd64, AMD64, Map.of()), TestImages.entry(arm64, ARM64, Map.of())));

    convert(options().build(), source, "v1", destination);

    ImageIndex index = readIndex(destination, "converted");
    assertThat(index.mediaType()).isEqualTo(MediaType.OCI_INDEX);
    assertThat(index.manifests().get(0).mediaType()).isEqualTo(MediaType.OCI_MANIFEST);
    assertThat(index.manifests().get(1).mediaType()).isEqualTo(MediaType.OCI_MANIFEST);
    ImageManifest manifest = readManifest(destination, index.manifests().get(0).digest());
    assertThat(manifest.mediaType()).isEqualTo(MediaType.OCI_MANIFEST);
    assertThat(manifest.config().mediaType()).isEqualTo(MediaType.OCI_CONFIG);
    assertThat(manifest.config().digest())
        .isEqualTo(readManifest(source, amd64.digest()).config().digest());
    assertThat(manifest.layers().get(0).mediaType()).isEqualTo(MediaType.DOCKER_LAYER_TAR_GZIP);
    SociIndex soci = SociIndex.parse(destination.readManifest(index.manifests().get(2).digest()));
    assertThat(soci.ztocs().get(0).annotation(SociAnnotations.IMAGE_LAYER_MEDIA_TYPE))
        .isEqualTo(MediaType.DOCKER_LAYER_TAR_GZIP);
  }

  @Test
  void convert_singleManifest_becomesIndex() throws IOException {
    Descriptor manifest = images.image(ARM64, false, List.of(arm64Big, small));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");

    convert(options().build(), source, "v1", destination);

    ImageIndex index = readIndex(destination, "converted");
    assertThat(index.manifests()).hasSize(2);
    Platform expected = Platform.of("linux", "arm64");
    assertThat(index.manifests().get(0).platform()).isEqualTo(expected);
    assertThat(index.manifests().get(1).platform()).isEqualTo(expected);
    assertThat(index.manifests().get(1).artifactType()).isEqualTo(MediaType.SOCI_INDEX_V2);
  }

  @Test
  void convert_referenceLayer_givesReferenceIndexBytes() throws IOException {
    byte[] blob = TestImages.referenceLayer();
    byte[] tar = new GZIPInputStream(new ByteArrayInputStream(blob)).readAllBytes();
    Descriptor manifest =
        images.image(AMD64, false, List.of(new Layer(MediaType.OCI_LAYER_TAR_GZIP, blob, tar)));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");
    ConvertOptions options =
        options()
            .minLayerSizeBytes(0)
            .spanSizeBytes(1000)
            .buildToolIdentifier(SociIndex.DEFAULT_BUILD_TOOL_IDENTIFIER)
            .build();

    ConvertResult result = convert(options, source, "v1", destination);

    // The zTOC is what AWS's soci builds for this layer, and the index bytes are what Go's
    // encoding/json writes for the index that lists it.
    Descriptor sociIndex = result.platforms().get(0).sociIndex();
    assertThat(result.layers().get(0).ztoc().digest().toString())
        .isEqualTo("sha256:6b95b2e40dd274347cd9c69fc52e790bf02549d16bff9f41528363b7909c9fac");
    assertThat(sociIndex.size()).isEqualTo(708);
    assertThat(sociIndex.digest().toString())
        .isEqualTo("sha256:2139a3f3c725f08b0768c021de3c2777be7a1886b5de71d1e26dba128d82ad1c");
  }

  @Test
  void convert_corruptGzipLayer_isReportedAndSkipped() throws IOException {
    Layer broken = corrupted(amd64Big);
    byte[] corrupt = broken.blob();
    Descriptor manifest = images.image(AMD64, false, List.of(broken, arm64Big));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");

    ConvertResult result = convert(options().build(), source, "v1", destination);

    LayerReport failed = result.layers().get(0);
    assertThat(failed.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(failed.reason()).startsWith("layer " + Digest.sha256Of(corrupt));
    assertThat(result.layers().get(1).outcome()).isEqualTo(Outcome.INDEXED);
    // The broken layer is still copied, since the image needs it.
    assertThat(destination.hasBlob(Digest.sha256Of(corrupt))).isTrue();
  }

  /** Converts a one-layer image tagged v1, which must fail, and returns the failure. */
  private ConvertException convertFailing(Layer layer) throws IOException {
    Descriptor manifest = images.image(AMD64, false, List.of(layer));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");
    return assertThrows(
        ConvertException.class, () -> convert(options().build(), source, "v1", destination));
  }

  /** Returns {@code layer} with 100 bytes of its gzip stream flipped, which inflating rejects. */
  private static Layer corrupted(Layer layer) {
    byte[] corrupt = layer.blob().clone();
    for (int i = 2000; i < 2100; i++) {
      corrupt[i] ^= 0x55;
    }
    return new Layer(MediaType.OCI_LAYER_TAR_GZIP, corrupt, layer.tar());
  }

  @Test
  void convert_noLayerIndexed_failsWithoutTagging() throws IOException {
    ConvertException e = convertFailing(small);

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "oci:"
                + temp.resolve("source")
                + ":v1: no zTOC was built, every layer was skipped or failed: 1 layer below the"
                + " minimum layer size of 1000 bytes");
    assertThat(destination.entries()).isEmpty();
  }

  @Test
  void convert_onlyLayerFails_namesItOnce() throws IOException {
    Layer broken = corrupted(amd64Big);

    ConvertException e = convertFailing(broken);

    assertThat(e)
        .hasMessageThat()
        .contains(
            ":v1: no zTOC was built, every layer was skipped or failed: layer "
                + Digest.sha256Of(broken.blob()));
    assertThat(e).hasMessageThat().doesNotContain("1 layer layer");
  }

  @Test
  void convert_missingPlatform_namesPlatformsFound() throws IOException {
    twoPlatformImage(false);
    ConvertOptions s390x = options().platforms(List.of(Platform.of("linux", "s390x"))).build();

    ConvertException e =
        assertThrows(ConvertException.class, () -> convert(s390x, source, "v1", destination));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "oci:"
                + temp.resolve("source")
                + ":v1: no image for platform linux/s390x, found linux/amd64, linux/arm64/v8");
  }

  @Test
  void convert_forceGzip_keepsDiffId() throws IOException {
    Layer plain = Layer.plain(files("bin/tool", randomBytes(200_000, 3), "etc/plain", "tar\n"));
    Descriptor manifest = images.image(AMD64, false, List.of(plain, small));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");

    ConvertResult result = convert(options().forceGzip(true).build(), source, "v1", destination);

    LayerReport report = result.layers().get(0);
    assertThat(report.outcome()).isEqualTo(Outcome.INDEXED);
    assertThat(report.recompressed()).isTrue();
    Descriptor gzipLayer = report.layer();
    assertThat(gzipLayer.mediaType()).isEqualTo(MediaType.OCI_LAYER_TAR_GZIP);
    byte[] gzipBlob = readBlob(destination, gzipLayer);
    byte[] inflated = new GZIPInputStream(new ByteArrayInputStream(gzipBlob)).readAllBytes();
    assertThat(Digest.sha256Of(inflated)).isEqualTo(plain.diffId());

    ImageIndex index = readIndex(destination, "converted");
    ImageManifest converted = readManifest(destination, index.manifests().get(0).digest());
    assertThat(converted.layers().get(0)).isEqualTo(gzipLayer);
    assertThat(converted.config().digest())
        .isEqualTo(readManifest(source, manifest.digest()).config().digest());
    byte[] ztocBytes = readBlob(destination, report.ztoc());
    assertThat(TestImages.extractFile(ztocBytes, gzipBlob, "bin/tool"))
        .isEqualTo(randomBytes(200_000, 3));
    assertThat(report.ztoc().annotation(SociAnnotations.IMAGE_LAYER_DIGEST))
        .isEqualTo(gzipLayer.digest().toString());
  }

  @Test
  void convert_forceGzipTwice_givesSameDigest() throws IOException {
    Layer plain = Layer.plain(files("bin/tool", randomBytes(200_000, 3)));
    Descriptor manifest = images.image(AMD64, false, List.of(plain));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");
    OciLayoutStore other = OciLayoutStore.openOrCreate(temp.resolve("other"));

    Digest first =
        convert(options().forceGzip(true).build(), source, "v1", destination).index().digest();
    Digest second =
        convert(options().forceGzip(true).build(), source, "v1", other).index().digest();

    assertThat(second).isEqualTo(first);
  }

  @Test
  void convert_plainTarWithoutForceGzip_buildsTarZtoc() throws IOException {
    Layer plain = Layer.plain(files("bin/tool", randomBytes(5_000, 4)));
    Descriptor manifest = images.image(AMD64, false, List.of(plain));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");

    ConvertResult result = convert(options().build(), source, "v1", destination);

    LayerReport report = result.layers().get(0);
    assertThat(report.outcome()).isEqualTo(Outcome.INDEXED);
    assertThat(report.recompressed()).isFalse();
    byte[] ztocBytes = readBlob(destination, report.ztoc());
    assertThat(TestImages.extractFile(ztocBytes, plain.blob(), "bin/tool"))
        .isEqualTo(randomBytes(5_000, 4));
  }

  @Test
  void convert_zstdWithForceGzip_recompressesAndIndexes() throws IOException {
    Layer zstd = Layer.zstd(files("bin/tool", randomBytes(200_000, 5), "etc/zstd", "frames\n"));
    Descriptor manifest = images.image(AMD64, false, List.of(zstd, small));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");

    ConvertResult result = convert(options().forceGzip(true).build(), source, "v1", destination);

    LayerReport report = result.layers().get(0);
    assertThat(report.outcome()).isEqualTo(Outcome.INDEXED);
    assertThat(report.recompressed()).isTrue();
    assertThat(report.source().digest().toString()).isEqualTo(zstd.descriptorDigest());
    Descriptor gzipLayer = report.layer();
    assertThat(gzipLayer.mediaType()).isEqualTo(MediaType.OCI_LAYER_TAR_GZIP);
    byte[] gzipBlob = readBlob(destination, gzipLayer);
    byte[] inflated = new GZIPInputStream(new ByteArrayInputStream(gzipBlob)).readAllBytes();
    assertThat(Digest.sha256Of(inflated)).isEqualTo(zstd.diffId());

    ImageIndex index = readIndex(destination, "converted");
    ImageManifest converted = readManifest(destination, index.manifests().get(0).digest());
    assertThat(converted.layers().get(0)).isEqualTo(gzipLayer);
    assertThat(converted.config().digest())
        .isEqualTo(readManifest(source, manifest.digest()).config().digest());
    byte[] ztocBytes = readBlob(destination, report.ztoc());
    assertThat(TestImages.extractFile(ztocBytes, gzipBlob, "bin/tool"))
        .isEqualTo(randomBytes(200_000, 5));
    assertThat(destination.hasBlob(report.source().digest())).isFalse();
  }

  @Test
  void convert_zstdMediaTypes_mapToGzipOfSameFamily() throws IOException {
    Map<String, String> gzipTypes =
        Map.of(
            MediaType.OCI_LAYER_TAR_ZSTD, MediaType.OCI_LAYER_TAR_GZIP,
            MediaType.OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD,
                MediaType.OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP,
            MediaType.DOCKER_LAYER_TAR_ZSTD, MediaType.DOCKER_LAYER_TAR_GZIP);
    int seed = 20;
    for (Map.Entry<String, String> types : gzipTypes.entrySet()) {
      Layer zstd =
          Layer.zstd(files("bin/tool", randomBytes(20_000, seed++))).withMediaType(types.getKey());
      Descriptor manifest = images.image(AMD64, false, List.of(zstd));
      source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");

      ConvertResult result = convert(options().forceGzip(true).build(), source, "v1", destination);

      LayerReport report = result.layers().get(0);
      assertWithMessage(types.getKey()).that(report.outcome()).isEqualTo(Outcome.INDEXED);
      assertWithMessage(types.getKey())
          .that(report.layer().mediaType())
          .isEqualTo(types.getValue());
    }
  }

  @Test
  void convert_zstdWithoutForceGzip_isSkippedWithReason() throws IOException {
    Layer zstd = Layer.zstd(files("bin/tool", randomBytes(20_000, 6)));
    Descriptor manifest = images.image(AMD64, false, List.of(zstd, amd64Big));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");

    ConvertResult result = convert(options().build(), source, "v1", destination);

    LayerReport report = result.layers().get(0);
    assertThat(report.outcome()).isEqualTo(Outcome.SKIPPED);
    assertThat(report.reason())
        .isEqualTo("zstd compression, which zTOCs do not support (--force-gzip re-compresses it)");
    assertThat(report.layer()).isEqualTo(report.source());
    assertThat(destination.hasBlob(report.source().digest())).isTrue();
  }

  @Test
  void convert_corruptZstd_isKeptAndReported() throws IOException {
    Layer good = Layer.zstd(files("bin/tool", randomBytes(50_000, 7)));
    byte[] corrupt = good.blob().clone();
    for (int i = corrupt.length / 2; i < corrupt.length / 2 + 32; i++) {
      corrupt[i] ^= 0x55;
    }
    Layer broken = new Layer(MediaType.OCI_LAYER_TAR_ZSTD, corrupt, good.tar());
    Descriptor manifest = images.image(AMD64, false, List.of(broken, amd64Big));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");

    ConvertResult result = convert(options().forceGzip(true).build(), source, "v1", destination);

    LayerReport failed = result.layers().get(0);
    assertThat(failed.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(failed.reason())
        .startsWith("layer " + Digest.sha256Of(corrupt) + ": invalid zstd data at or after");
    assertThat(failed.layer()).isEqualTo(failed.source());
    assertThat(destination.hasBlob(Digest.sha256Of(corrupt))).isTrue();
    assertThat(result.layers().get(1).outcome()).isEqualTo(Outcome.INDEXED);
  }

  @Test
  void convert_zstdNotMatchingDiffId_fails() throws IOException {
    Layer zstd = Layer.zstd(files("bin/tool", randomBytes(20_000, 8)));
    byte[] otherTar = TestImages.tar(files("bin/other", "other\n"));
    Layer mismatched = new Layer(MediaType.OCI_LAYER_TAR_ZSTD, zstd.blob(), otherTar);
    Descriptor manifest = images.image(AMD64, false, List.of(mismatched));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");

    ConvertException e =
        assertThrows(
            ConvertException.class,
            () -> convert(options().forceGzip(true).build(), source, "v1", destination));

    assertThat(e)
        .hasMessageThat()
        .endsWith(
            "layer "
                + zstd.descriptorDigest()
                + ": uncompressed digest "
                + zstd.diffId()
                + " does not match the config's diff_id "
                + Digest.sha256Of(otherTar));
    assertThat(destination.entries()).isEmpty();
  }

  @Test
  void convert_dockerTarHoldingGzip_isReportedAndCopied() throws IOException {
    Layer mislabelled = amd64Big.withMediaType(MediaType.DOCKER_LAYER_TAR);
    Descriptor manifest = images.image(AMD64, false, List.of(mislabelled, arm64Big));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");

    ConvertResult result = convert(options().forceGzip(true).build(), source, "v1", destination);

    LayerReport report = result.layers().get(0);
    assertThat(report.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(report.reason())
        .isEqualTo(
            "media type application/vnd.docker.image.rootfs.diff.tar names a plain tar but the"
                + " blob is gzip");
    assertThat(report.layer()).isEqualTo(report.source());
    assertThat(destination.hasBlob(report.source().digest())).isTrue();
  }

  @Test
  void convert_gzipTypeHoldingTar_isReported() throws IOException {
    Layer plain = Layer.plain(files("bin/tool", randomBytes(5_000, 6)));
    Layer mislabelled = plain.withMediaType(MediaType.OCI_LAYER_TAR_GZIP);
    Descriptor manifest = images.image(AMD64, false, List.of(mislabelled, amd64Big));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");

    ConvertResult result = convert(options().build(), source, "v1", destination);

    assertThat(result.layers().get(0).outcome()).isEqualTo(Outcome.FAILED);
    assertThat(result.layers().get(0).reason())
        .isEqualTo(
            "media type application/vnd.oci.image.layer.v1.tar+gzip names gzip but the blob is"
                + " not gzip");
  }

  /**
   * A registry upload that streams a layer cannot restart after its connection breaks, so the layer
   * is copied again from the source with an ordinary upload.
   */
  @Test
  void convert_streamedUploadFails_copiesLayerAgain() throws IOException {
    Descriptor manifest = images.image(AMD64, false, List.of(amd64Big));
    source.writeManifest(manifest, source.readManifest(manifest.digest()), "v1");
    FailingFirstUploadStore flaky = new FailingFirstUploadStore(destination);

    ConvertResult result = convert(options().build(), source, "v1", flaky);

    assertThat(flaky.failedUploads).isEqualTo(1);
    assertThat(result.layers().get(0).outcome()).isEqualTo(Outcome.INDEXED);
    Descriptor layer = result.layers().get(0).layer();
    assertThat(Digest.sha256Of(readBlob(destination, layer))).isEqualTo(layer.digest());
  }

  /** A layout store whose first streamed blob upload fails at its commit. */
  private static final class FailingFirstUploadStore implements ImageStore {
    private final ImageStore delegate;
    int failedUploads;

    FailingFirstUploadStore(ImageStore delegate) {
      this.delegate = delegate;
    }

    @Override
    public String name() {
      return "failing " + delegate.name();
    }

    @Override
    public Descriptor resolve(String reference) throws IOException {
      return delegate.resolve(reference);
    }

    @Override
    public byte[] readManifest(Digest digest) throws IOException {
      return delegate.readManifest(digest);
    }

    @Override
    public InputStream openBlob(Descriptor blob) throws IOException {
      return delegate.openBlob(blob);
    }

    @Override
    public boolean hasBlob(Digest digest) throws IOException {
      return delegate.hasBlob(digest);
    }

    @Override
    public boolean hasManifest(Digest digest) throws IOException {
      return delegate.hasManifest(digest);
    }

    @Override
    public BlobWriter newBlobWriter(@Nullable Descriptor expected) throws IOException {
      BlobWriter writer = delegate.newBlobWriter(expected);
      if (expected == null || failedUploads > 0 || expected.size() < MIN_LAYER_SIZE) {
        return writer;
      }
      failedUploads++;
      return new BlobWriter() {
        @Override
        protected void writeContent(byte[] buffer, int offset, int length) throws IOException {
          writer.write(buffer, offset, length);
        }

        @Override
        protected boolean publish(Digest digest, long sizeBytes) throws IOException {
          throw new IOException("connection reset");
        }

        @Override
        protected String storeName() {
          return name();
        }

        @Override
        public void close() throws IOException {
          writer.close();
        }
      };
    }

    @Override
    public void writeManifest(Descriptor descriptor, byte[] bytes, @Nullable String tag)
        throws IOException {
      delegate.writeManifest(descriptor, bytes, tag);
    }

    @Override
    public void close() throws IOException {
      delegate.close();
    }
  }

  @Test
  void convert_sameStore_copiesNothing() throws IOException {
    twoPlatformImage(false);
    List<Path> before = listBlobs(temp.resolve("source"));

    ConvertResult result = convert(options().build(), source, "v1", source);

    List<Path> added = new ArrayList<>(listBlobs(temp.resolve("source")));
    added.removeAll(before);
    // The zTOC, the {} config, the SOCI index, the linked amd64 manifest and the new index. The
    // arm64 manifest was already in OCI form, so its rewrite has the same bytes.
    assertThat(added).hasSize(5);
    assertThat(result.uploadedBytes()).isGreaterThan(0);
    assertThat(source.resolve("converted").digest()).isEqualTo(result.index().digest());
  }

  private static List<Path> listBlobs(Path layout) throws IOException {
    try (var paths = Files.list(layout.resolve("blobs").resolve("sha256"))) {
      return paths.toList();
    }
  }
}
