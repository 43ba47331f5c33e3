package dev.jsoci.oci;

import static com.google.common.truth.Truth.assertThat;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ImageIndexTest {
  private static final String DIGEST_A = "sha256:" + "a".repeat(64);
  private static final String DIGEST_B = "sha256:" + "b".repeat(64);
  private static final String DIGEST_C = "sha256:" + "c".repeat(64);

  private static ImageIndex parse(String json) throws OciFormatException {
    return ImageIndex.parse(json.getBytes(UTF_8));
  }

  /** A Docker manifest list has the members of an OCI index and parses as one. */
  @Test
  void parse_dockerManifestList() throws Exception {
    String json =
        "{\n  \"schemaVersion\": 2,\n"
            + "  \"mediaType\": \"application/vnd.docker.distribution.manifest.list.v2+json\",\n"
            + "  \"manifests\": [\n"
            + "    {\n"
            + "      \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
            + "      \"size\": 528,\n      \"digest\": \""
            + DIGEST_A
            + "\",\n"
            + "      \"platform\": {\"architecture\": \"amd64\", \"os\": \"linux\"}\n    },\n"
            + "    {\n"
            + "      \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
            + "      \"size\": 528,\n      \"digest\": \""
            + DIGEST_B
            + "\",\n"
            + "      \"platform\": {\"architecture\": \"arm\", \"os\": \"linux\","
            + " \"variant\": \"v7\", \"features\": [\"x\"]}\n    }\n"
            + "  ]\n}";

    ImageIndex index = parse(json);

    assertThat(index.mediaType()).isEqualTo(MediaType.DOCKER_MANIFEST_LIST);
    assertThat(index.manifests()).hasSize(2);
    assertThat(index.manifests().get(1).platform()).isEqualTo(Platform.of("linux", "arm", "v7"));
    assertThat(index.toJson())
        .isEqualTo(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest."
                + "list.v2+json\",\"manifests\":[{\"mediaType\":\"application/vnd.docker."
                + "distribution.manifest.v2+json\",\"digest\":\""
                + DIGEST_A
                + "\",\"size\":528,"
                + "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},{\"mediaType\":"
                + "\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\""
                + DIGEST_B
                + "\",\"size\":528,\"platform\":{\"architecture\":\"arm\",\"os\":"
                + "\"linux\",\"variant\":\"v7\"}}]}");
  }

  @Test
  void toBytes_afterParse_reproducesGoForm() throws Exception {
    String json =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
            + "\"artifactType\":\"application/x.example\",\"manifests\":[{\"mediaType\":"
            + "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\""
            + DIGEST_A
            + "\","
            + "\"size\":1,\"annotations\":{\"com.amazon.soci.image-manifest-digest\":\""
            + DIGEST_B
            + "\"},\"platform\":{\"architecture\":\"amd64\",\"os\":\"windows\","
            + "\"os.version\":\"10.0.17763.1\",\"os.features\":[\"win32k\"]},"
            + "\"artifactType\":\"application/vnd.amazon.soci.index.v2+json\"}],"
            + "\"subject\":{\"mediaType\":\"m\",\"digest\":\""
            + DIGEST_C
            + "\",\"size\":3},"
            + "\"annotations\":{\"k\":\"v\"}}";

    assertThat(parse(json).toJson()).isEqualTo(json);
  }

  @Test
  void toBytes_emptyIndex_manifestsKept() {
    ImageIndex index = new ImageIndex("", "", List.of(), null, Map.of());

    assertThat(index.toJson()).isEqualTo("{\"schemaVersion\":2,\"manifests\":[]}");
  }

  @Test
  void parse_platformMembersIgnoreCase() throws Exception {
    String json =
        "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\""
            + DIGEST_A
            + "\",\"size\":1,"
            + "\"Platform\":{\"OS\":\"linux\",\"Architecture\":\"arm64\",\"OS.Version\":\"v\","
            + "\"OS.FEATURES\":[\"f\"],\"Variant\":\"v8\"}}]}";

    assertThat(parse(json).manifests().get(0).platform())
        .isEqualTo(new Platform("linux", "arm64", "v8", "v", List.of("f")));
  }

  @Test
  void parse_missingManifests_empty() throws Exception {
    assertThat(parse("{\"schemaVersion\":2}").manifests()).isEmpty();
  }

  @Test
  void parse_errors_nameMember() {
    OciFormatException missingVersion =
        assertThrows(OciFormatException.class, () -> parse("{\"manifests\":[]}"));
    OciFormatException badDigest =
        assertThrows(
            OciFormatException.class,
            () -> parse("{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"x\",\"size\":1}]}"));
    OciFormatException badSubject =
        assertThrows(
            OciFormatException.class,
            () ->
                parse(
                    "{\"schemaVersion\":2,\"subject\":{\"digest\":\""
                        + DIGEST_A
                        + "\",\"size\":-5}}"));

    assertThat(missingVersion).hasMessageThat().isEqualTo("missing schemaVersion, expected 2");
    assertThat(badDigest)
        .hasMessageThat()
        .isEqualTo("invalid manifests[0].digest \"x\": expected <algorithm>:<hex>, found no ':'");
    assertThat(badSubject)
        .hasMessageThat()
        .isEqualTo("invalid subject.size -5: must not be negative");
  }
}
