package dev.jsoci.oci;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SociIndexTest {
  /** SHA-256 of the 4 bytes {@code test}. */
  private static final Digest TEST_DIGEST =
      Digest.parse("sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");

  private static final Descriptor TEST_BLOB = Descriptor.of("", TEST_DIGEST, 4);

  /**
   * The index of the SOCI reference's marshal round-trip test, version 1, in the bytes Go's
   * encoding/json writes for it. Note {@code "mediaType":""}: Go always writes it.
   */
  private static final String V1_JSON =
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
          + "\"config\":{\"mediaType\":\"application/vnd.amazon.soci.index.v1+json\","
          + "\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
          + "\","
          + "\"size\":2},\"layers\":[{\"mediaType\":\"\","
          + "\"digest\":\"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
          + "\","
          + "\"size\":4}],\"subject\":{\"mediaType\":\"\","
          + "\"digest\":\"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
          + "\","
          + "\"size\":4},\"annotations\":{\"foo\":\"bar\"}}";

  private static final String V2_JSON =
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
          + "\"config\":{\"mediaType\":\"application/vnd.amazon.soci.index.v2+json\","
          + "\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
          + "\","
          + "\"size\":2},\"layers\":[{\"mediaType\":\"\","
          + "\"digest\":\"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
          + "\","
          + "\"size\":4}],\"annotations\":{\"foo\":\"bar\"}}";

  /** The v2 index of the 519-byte test layer, span size 1000, minimum layer size 0. */
  private static final String EXAMPLE_V2_JSON =
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
          + "\"config\":{\"mediaType\":\"application/vnd.amazon.soci.index.v2+json\","
          + "\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
          + "\","
          + "\"size\":2},\"layers\":[{\"mediaType\":\"application/octet-stream\","
          + "\"digest\":\"sha256:6b95b2e40dd274347cd9c69fc52e790bf02549d16bff9f41528363b7909c9fac"
          + "\","
          + "\"size\":132176,\"annotations\":{\"com.amazon.soci.image-layer-digest\":"
          + "\"sha256:b4ceb60a56d630e7543007ffc06b3964eed496198b553640f943249f75b242be\","
          + "\"com.amazon.soci.image-layer-mediaType\":"
          + "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"com.amazon.soci.span-size\":"
          + "\"1000\"}}],\"annotations\":{\"com.amazon.soci.build-tool-identifier\":\"AWS SOCI CLI"
          + " v0.2\"}}";

  private static final Descriptor LAYER_A =
      Descriptor.of(
          MediaType.OCI_LAYER_TAR_GZIP,
          Digest.parse("sha256:b4ceb60a56d630e7543007ffc06b3964eed496198b553640f943249f75b242be"),
          519);
  private static final Descriptor LAYER_B =
      Descriptor.of(MediaType.DOCKER_LAYER_TAR_GZIP, Digest.parse("sha256:" + "b".repeat(64)), 9);

  private static Digest digestOf(char hex) {
    return Digest.parse("sha256:" + String.valueOf(hex).repeat(64));
  }

  @Test
  void toBytes_v1_exactGoBytes() {
    SociIndex index =
        SociIndex.of(SociIndex.Version.V1, List.of(TEST_BLOB), TEST_BLOB, Map.of("foo", "bar"));

    byte[] bytes = index.toBytes();

    assertThat(new String(bytes, UTF_8)).isEqualTo(V1_JSON);
    assertThat(bytes).hasLength(502);
    assertThat(Digest.sha256Of(bytes).toString())
        .isEqualTo("sha256:9df6ad7dad706db4692195baee63e12de1ce84e296e2d0f69823aa85a40081fc");
  }

  @Test
  void toBytes_v2_exactGoBytes() {
    SociIndex index =
        SociIndex.of(SociIndex.Version.V2, List.of(TEST_BLOB), null, Map.of("foo", "bar"));

    byte[] bytes = index.toBytes();

    assertThat(new String(bytes, UTF_8)).isEqualTo(V2_JSON);
    assertThat(bytes).hasLength(383);
    assertThat(Digest.sha256Of(bytes).toString())
        .isEqualTo("sha256:9c583ca3a0f32b6d777ff1ad09d074b1242362ea43be3b4f8fb138b13f01a876");
  }

  /** The v2 index of the test layer, built from its inputs with the builder. */
  @Test
  void builder_exampleV2_exactBytes() {
    Descriptor ztoc =
        SociIndex.ztocDescriptor(
            Digest.parse("sha256:6b95b2e40dd274347cd9c69fc52e790bf02549d16bff9f41528363b7909c9fac"),
            132176,
            LAYER_A,
            1000,
            false);

    SociIndex index = SociIndex.builder(SociIndex.Version.V2).addZtoc(ztoc).build();

    byte[] bytes = index.toBytes();
    assertThat(new String(bytes, UTF_8)).isEqualTo(EXAMPLE_V2_JSON);
    assertThat(bytes).hasLength(708);
    assertThat(Digest.sha256Of(bytes).toString())
        .isEqualTo("sha256:2139a3f3c725f08b0768c021de3c2777be7a1886b5de71d1e26dba128d82ad1c");
  }

  @Test
  void parse_v1AndV2_roundTrip() throws Exception {
    for (String json : List.of(V1_JSON, V2_JSON, EXAMPLE_V2_JSON)) {
      SociIndex index = SociIndex.parse(json.getBytes(UTF_8));

      assertWithMessage(json).that(index.toJson()).isEqualTo(json);
    }
  }

  /** The marshal round trip of the SOCI reference tests: the parsed value equals the built one. */
  @Test
  void parse_builtIndex_equalsOriginal() throws Exception {
    SociIndex v1 =
        SociIndex.of(SociIndex.Version.V1, List.of(TEST_BLOB), TEST_BLOB, Map.of("foo", "bar"));
    SociIndex v2 =
        SociIndex.of(SociIndex.Version.V2, List.of(TEST_BLOB), null, Map.of("foo", "bar"));

    SociIndex parsedV1 = SociIndex.parse(v1.toBytes());
    SociIndex parsedV2 = SociIndex.parse(v2.toBytes());

    assertThat(parsedV1).isEqualTo(v1);
    assertThat(parsedV1.version()).isEqualTo(SociIndex.Version.V1);
    assertThat(parsedV1.subject()).isEqualTo(TEST_BLOB);
    assertThat(parsedV2).isEqualTo(v2);
    assertThat(parsedV2.version()).isEqualTo(SociIndex.Version.V2);
    assertThat(parsedV2.subject()).isNull();
  }

  @Test
  void parse_unknownConfigMediaType_rejected() {
    String json = V2_JSON.replace("index.v2+json", "index.v3+json");

    OciFormatException e =
        assertThrows(OciFormatException.class, () -> SociIndex.parse(json.getBytes(UTF_8)));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "unknown SOCI index version: config.mediaType"
                + " \"application/vnd.amazon.soci.index.v3+json\", expected"
                + " application/vnd.amazon.soci.index.v1+json or"
                + " application/vnd.amazon.soci.index.v2+json");
  }

  /**
   * The reference reader checks neither the top-level media type nor the subject, and the writer
   * forces the media type and never writes an artifact type.
   */
  @Test
  void parse_topLevelMediaTypeAndArtifactType_normalisedOnWrite() throws Exception {
    String json =
        V2_JSON.replace(
            "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",",
            "\"mediaType\":\"application/x.other\",\"artifactType\":\"application/x.art\",");

    SociIndex index = SociIndex.parse(json.getBytes(UTF_8));

    assertThat(index.toJson()).isEqualTo(V2_JSON);
    assertThat(index.manifest().artifactType()).isEmpty();
  }

  @Test
  void ztocs_selectedByMediaType() {
    Descriptor ztocA = SociIndex.ztocDescriptor(digestOf('1'), 10, LAYER_A, 4194304, false);
    Descriptor ztocB = SociIndex.ztocDescriptor(digestOf('2'), 20, LAYER_B, 4194304, true);
    Descriptor prefetch = SociIndex.prefetchDescriptor(digestOf('3'), 30, LAYER_A.digest());

    SociIndex index =
        SociIndex.builder(SociIndex.Version.V2)
            .addPrefetch(prefetch)
            .addZtoc(ztocA)
            .addZtoc(ztocB)
            .build();

    assertThat(index.manifest().layers()).containsExactly(ztocA, ztocB, prefetch).inOrder();
    assertThat(index.ztocs()).containsExactly(ztocA, ztocB).inOrder();
    assertThat(index.prefetches()).containsExactly(prefetch);
    assertThat(index.ztocFor(LAYER_B.digest())).hasValue(ztocB);
    assertThat(index.prefetchFor(LAYER_A.digest())).hasValue(prefetch);
    assertThat(index.prefetchFor(LAYER_B.digest())).isEmpty();
    assertThat(index.ztocFor(digestOf('9'))).isEmpty();
  }

  @Test
  void ztocFor_duplicateLayer_laterEntryWins() {
    Descriptor first = SociIndex.ztocDescriptor(digestOf('1'), 10, LAYER_A, 1000, false);
    Descriptor second = SociIndex.ztocDescriptor(digestOf('2'), 20, LAYER_A, 2000, false);

    SociIndex index =
        SociIndex.builder(SociIndex.Version.V2).addZtoc(first).addZtoc(second).build();

    assertThat(index.ztocFor(LAYER_A.digest())).hasValue(second);
  }

  @Test
  void prefetchFor_duplicateLayer_firstEntryWins() {
    Descriptor ztoc = SociIndex.ztocDescriptor(digestOf('1'), 10, LAYER_A, 1000, false);
    Descriptor first = SociIndex.prefetchDescriptor(digestOf('2'), 20, LAYER_A.digest());
    Descriptor second = SociIndex.prefetchDescriptor(digestOf('3'), 30, LAYER_A.digest());

    SociIndex index =
        SociIndex.builder(SociIndex.Version.V2)
            .addZtoc(ztoc)
            .addPrefetch(first)
            .addPrefetch(second)
            .build();

    assertThat(index.prefetchFor(LAYER_A.digest())).hasValue(first);
  }

  @Test
  void ztocDescriptor_annotations() {
    Descriptor ztoc = SociIndex.ztocDescriptor(digestOf('1'), 10, LAYER_B, 4194304, true);

    assertThat(ztoc.mediaType()).isEqualTo("application/octet-stream");
    assertThat(ztoc.annotations())
        .containsExactly(
            "com.amazon.soci.disable-xattrs",
            "true",
            "com.amazon.soci.image-layer-digest",
            LAYER_B.digest().toString(),
            "com.amazon.soci.image-layer-mediaType",
            MediaType.DOCKER_LAYER_TAR_GZIP,
            "com.amazon.soci.span-size",
            "4194304")
        .inOrder();
    assertThat(SociIndex.xattrsDisabled(ztoc)).isTrue();
  }

  @Test
  void xattrsDisabled_parsedLikeGoParseBool() {
    Digest digest = digestOf('1');
    for (String value : List.of("1", "t", "T", "TRUE", "true", "True")) {
      Descriptor ztoc =
          Descriptor.builder(MediaType.SOCI_ZTOC, digest, 1)
              .annotations(Map.of(SociAnnotations.DISABLE_XATTRS, value))
              .build();
      assertWithMessage(value).that(SociIndex.xattrsDisabled(ztoc)).isTrue();
    }
    for (String value : List.of("0", "false", "yes", "tRUE", " true", "")) {
      Descriptor ztoc =
          Descriptor.builder(MediaType.SOCI_ZTOC, digest, 1)
              .annotations(Map.of(SociAnnotations.DISABLE_XATTRS, value))
              .build();
      assertWithMessage(value).that(SociIndex.xattrsDisabled(ztoc)).isFalse();
    }
    assertThat(SociIndex.xattrsDisabled(Descriptor.of(MediaType.SOCI_ZTOC, digest, 1))).isFalse();
  }

  @Test
  void builder_v1_subjectKeepsOnlyRequiredMembers() {
    Descriptor imageManifest =
        Descriptor.builder(MediaType.OCI_MANIFEST, digestOf('e'), 1234)
            .annotations(Map.of("a", "b"))
            .platform(Platform.of("linux", "amd64"))
            .build();

    SociIndex index =
        SociIndex.builder(SociIndex.Version.V1)
            .subject(imageManifest)
            .addZtoc(SociIndex.ztocDescriptor(digestOf('1'), 10, LAYER_A, 1000, false))
            .buildToolIdentifier("jsoci test")
            .build();

    assertThat(index.subject())
        .isEqualTo(Descriptor.of(MediaType.OCI_MANIFEST, digestOf('e'), 1234));
    assertThat(index.annotations())
        .containsExactly(SociAnnotations.BUILD_TOOL_IDENTIFIER, "jsoci test");
    assertThat(index.toJson())
        .contains(
            ",\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"digest\":\""
                + digestOf('e')
                + "\",\"size\":1234},\"annotations\":");
  }

  @Test
  void builder_invalidCombinations_rejected() {
    Descriptor ztoc = SociIndex.ztocDescriptor(digestOf('1'), 10, LAYER_A, 1000, false);
    Descriptor imageManifest = Descriptor.of(MediaType.OCI_MANIFEST, digestOf('e'), 1);

    IllegalStateException v1WithoutSubject =
        assertThrows(
            IllegalStateException.class,
            () -> SociIndex.builder(SociIndex.Version.V1).addZtoc(ztoc).build());
    IllegalStateException v2WithSubject =
        assertThrows(
            IllegalStateException.class,
            () -> SociIndex.builder(SociIndex.Version.V2).subject(imageManifest));
    IllegalStateException empty =
        assertThrows(
            IllegalStateException.class, () -> SociIndex.builder(SociIndex.Version.V2).build());
    IllegalArgumentException wrongType =
        assertThrows(
            IllegalArgumentException.class,
            () -> SociIndex.builder(SociIndex.Version.V2).addZtoc(LAYER_A));
    IllegalArgumentException noLayerDigest =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                SociIndex.builder(SociIndex.Version.V2)
                    .addPrefetch(Descriptor.of(MediaType.SOCI_PREFETCH, digestOf('1'), 1)));

    assertThat(v1WithoutSubject).hasMessageThat().isEqualTo("a SOCI index v1 requires a subject");
    assertThat(v2WithSubject).hasMessageThat().isEqualTo("a SOCI index v2 has no subject");
    assertThat(empty)
        .hasMessageThat()
        .isEqualTo("a SOCI index needs at least one zTOC or prefetch descriptor");
    assertThat(wrongType)
        .hasMessageThat()
        .startsWith(
            "expected media type application/octet-stream, found"
                + " \"application/vnd.oci.image.layer.v1.tar+gzip\" in Descriptor{");
    assertThat(noLayerDigest)
        .hasMessageThat()
        .startsWith("missing annotation com.amazon.soci.image-layer-digest in Descriptor{");
  }

  @Test
  void of_subjectMustFitVersion() {
    assertThrows(
        IllegalArgumentException.class,
        () -> SociIndex.of(SociIndex.Version.V1, List.of(TEST_BLOB), null, Map.of()));
    assertThrows(
        IllegalArgumentException.class,
        () -> SociIndex.of(SociIndex.Version.V2, List.of(TEST_BLOB), TEST_BLOB, Map.of()));
  }

  @Test
  void constructor_configMediaTypeMismatch_rejected() {
    ImageManifest manifest =
        new ImageManifest(
            MediaType.OCI_MANIFEST,
            "",
            SociIndex.configDescriptor(SociIndex.Version.V1),
            List.of(TEST_BLOB),
            null,
            Map.of());

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> new SociIndex(SociIndex.Version.V2, manifest));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "config.mediaType of a SOCI index V2 must be"
                + " application/vnd.amazon.soci.index.v2+json, found"
                + " \"application/vnd.amazon.soci.index.v1+json\"");
  }

  @Test
  void version_fromArtifactType() {
    assertThat(SociIndex.Version.fromArtifactType(MediaType.SOCI_INDEX_V1))
        .hasValue(SociIndex.Version.V1);
    assertThat(SociIndex.Version.fromArtifactType(MediaType.SOCI_INDEX_V2))
        .hasValue(SociIndex.Version.V2);
    assertThat(SociIndex.Version.fromArtifactType(MediaType.OCI_MANIFEST)).isEmpty();
  }
}
