package dev.jsoci.oci;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ImageManifestTest {
  private static final String DIGEST_A = "sha256:" + "a".repeat(64);
  private static final String DIGEST_B = "sha256:" + "b".repeat(64);
  private static final String DIGEST_C = "sha256:" + "c".repeat(64);

  private static ImageManifest parse(String json) throws OciFormatException {
    return ImageManifest.parse(json.getBytes(UTF_8));
  }

  private static String minimal(String extraMembers) {
    return "{\"schemaVersion\":2,"
        + extraMembers
        + "\"config\":{\"mediaType\":\"c\",\"digest\":\""
        + DIGEST_A
        + "\",\"size\":7},\"layers\":[]}";
  }

  /** A manifest in the exact form Go writes survives parse and write byte for byte. */
  @Test
  void toBytes_afterParse_reproducesGoForm() throws Exception {
    String json =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            + "\"artifactType\":\"application/x.example\","
            + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
            + "\"digest\":\""
            + DIGEST_A
            + "\",\"size\":0},"
            + "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\","
            + "\"digest\":\""
            + DIGEST_B
            + "\",\"size\":123,"
            + "\"urls\":[\"https://example.com/a\",\"https://example.com/b\"],"
            + "\"annotations\":{\"a\":\"1\",\"b\":\"2\"},\"data\":\"dGVzdA==\","
            + "\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"os.version\":\"1\","
            + "\"os.features\":[\"f\"],\"variant\":\"v7\"},"
            + "\"artifactType\":\"application/x.layer\"},"
            + "{\"mediaType\":\"\",\"digest\":\""
            + DIGEST_C
            + "\",\"size\":0}],"
            + "\"subject\":{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
            + "\"digest\":\""
            + DIGEST_C
            + "\",\"size\":99},"
            + "\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\"}}";

    ImageManifest manifest = parse(json);

    assertThat(manifest.toJson()).isEqualTo(json);
    Descriptor layer = manifest.layers().get(0);
    assertThat(layer.data()).isEqualTo("test".getBytes(UTF_8));
    assertThat(layer.platform()).isEqualTo(new Platform("linux", "arm", "v7", "1", List.of("f")));
    assertThat(layer.urls()).containsExactly("https://example.com/a", "https://example.com/b");
    assertThat(manifest.subject().size()).isEqualTo(99);
  }

  @Test
  void toBytes_emptyOptionalMembers_omittedButLayersKept() throws Exception {
    ImageManifest manifest =
        new ImageManifest(
            "", "", Descriptor.of("", Digest.parse(DIGEST_A), 0), List.of(), null, Map.of());

    assertThat(manifest.toJson())
        .isEqualTo(
            "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"\",\"digest\":\""
                + DIGEST_A
                + "\",\"size\":0},\"layers\":[]}");
  }

  @Test
  void parse_prettyPrinted_writesCompact() throws Exception {
    String json =
        "{\n  \"schemaVersion\": 2,\n  \"config\": {\n    \"mediaType\": \"c\",\n"
            + "    \"digest\": \""
            + DIGEST_A
            + "\",\n    \"size\": 7\n  },\n"
            + "  \"layers\": [ ]\n}\n";

    assertThat(parse(json).toJson()).isEqualTo(minimal(""));
  }

  @Test
  void parse_unknownMembers_dropped() throws Exception {
    String json =
        "{\"schemaVersion\":2,\"extra\":{\"nested\":[1,{\"x\":null}]},"
            + "\"config\":{\"mediaType\":\"c\",\"digest\":\""
            + DIGEST_A
            + "\",\"size\":7,"
            + "\"features\":[\"sse4\"],\"unknown\":true},\"layers\":[],\"foo\":\"bar\"}";

    assertThat(parse(json).toJson()).isEqualTo(minimal(""));
  }

  /** Go's encoding/json matches member names to struct fields case-insensitively. */
  @Test
  void parse_memberNamesIgnoreCase() throws Exception {
    String json =
        "{\"SCHEMAVERSION\":2,\"MediaType\":\"m\",\"Config\":{\"MEDIATYPE\":\"c\",\"Digest\":\""
            + DIGEST_A
            + "\",\"SIZE\":7},\"Layers\":[]}";

    ImageManifest manifest = parse(json);

    assertThat(manifest.mediaType()).isEqualTo("m");
    assertThat(manifest.config().mediaType()).isEqualTo("c");
    assertThat(manifest.config().size()).isEqualTo(7);
  }

  @Test
  void parse_repeatedMember_lastWins() throws Exception {
    String json = minimal("\"mediaType\":\"first\",\"MEDIATYPE\":\"second\",");

    assertThat(parse(json).mediaType()).isEqualTo("second");
  }

  /**
   * Go leaves a string, number or struct member unchanged on null and clears maps, slices and
   * pointers.
   */
  @Test
  void parse_nullMembers_followGo() throws Exception {
    String json =
        "{\"schemaVersion\":2,\"schemaVersion\":null,\"mediaType\":\"m\",\"mediaType\":null,"
            + "\"config\":{\"mediaType\":\"c\",\"digest\":\""
            + DIGEST_A
            + "\",\"size\":7,"
            + "\"size\":null,\"urls\":[\"u\"],\"urls\":null,\"data\":null,\"platform\":null},"
            + "\"config\":null,\"layers\":[{\"digest\":\""
            + DIGEST_B
            + "\",\"size\":1}],"
            + "\"layers\":null,\"subject\":{\"digest\":\""
            + DIGEST_C
            + "\",\"size\":1},"
            + "\"subject\":null,\"annotations\":{\"k\":\"v\"},\"annotations\":null,"
            + "\"artifactType\":null}";

    ImageManifest manifest = parse(json);

    assertThat(manifest.mediaType()).isEqualTo("m");
    assertThat(manifest.config().size()).isEqualTo(7);
    assertThat(manifest.config().urls()).isEmpty();
    assertThat(manifest.layers()).isEmpty();
    assertThat(manifest.subject()).isNull();
    assertThat(manifest.annotations()).isEmpty();
    assertThat(manifest.artifactType()).isEmpty();
  }

  @Test
  void parse_nullAnnotationValue_becomesEmptyString() throws Exception {
    ImageManifest manifest = parse(minimal("\"annotations\":{\"k\":null},"));

    assertThat(manifest.annotations()).containsExactly("k", "");
  }

  /** Go replaces each byte that does not start a valid UTF-8 sequence with U+FFFD. */
  @Test
  void parse_invalidUtf8InString_replacedPerByte() throws Exception {
    ByteArrayOutputStream json = new ByteArrayOutputStream();
    json.writeBytes("{\"schemaVersion\":2,\"annotations\":{\"k\":\"x".getBytes(UTF_8));
    // E2 80 is a truncated three-byte sequence, ED A0 80 an encoded surrogate, C0 AF overlong.
    json.writeBytes(new byte[] {(byte) 0xe2, (byte) 0x80, 'A', (byte) 0xed, (byte) 0xa0});
    json.writeBytes(new byte[] {(byte) 0x80, (byte) 0xc0, (byte) 0xaf, (byte) 0xff});
    json.writeBytes(("\"}," + minimal("").substring(19)).getBytes(UTF_8));

    ImageManifest manifest = ImageManifest.parse(json.toByteArray());

    assertThat(manifest.annotations().get("k"))
        .isEqualTo("x\ufffd\ufffdA\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd");
    assertThat(manifest.toJson()).contains("\"k\":\"x\ufffd\ufffdA");
  }

  @Test
  void parse_validMultibyteUtf8_kept() throws Exception {
    String value = "é€" + new String(Character.toChars(0x1f600));

    ImageManifest manifest = parse(minimal("\"annotations\":{\"k\":\"" + value + "\"},"));

    assertThat(manifest.annotations().get("k")).isEqualTo(value);
    assertThat(manifest.toJson()).contains("\"k\":\"" + value + "\"");
  }

  /** Go turns an escaped surrogate without its pair into U+FFFD and keeps valid pairs. */
  @Test
  void parse_unpairedSurrogateEscape_replaced() throws Exception {
    String json =
        minimal(
            "\"annotations\":{\"lone\":\"\\ud800A\",\"pair\":\"\\ud83d\\ude00\","
                + "\"\\udc00\":\"k\"},");

    ImageManifest manifest = parse(json);

    assertThat(manifest.annotations().get("lone")).isEqualTo("\ufffdA");
    assertThat(manifest.annotations().get("pair"))
        .isEqualTo(new String(Character.toChars(0x1f600)));
    assertThat(manifest.annotations().get("\ufffd")).isEqualTo("k");
  }

  /**
   * Go sorts map keys by their UTF-8 bytes. UTF-16 order would put the supplementary character (a
   * surrogate pair starting 0xD83D) before U+FF61.
   */
  @Test
  void toBytes_annotationKeys_utf8ByteOrder() throws Exception {
    String emoji = new String(Character.toChars(0x1f600));
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put(emoji, "4");
    annotations.put("\uff61", "3");
    annotations.put("a", "2");
    annotations.put("B", "1");
    ImageManifest manifest =
        new ImageManifest(
            "", "", Descriptor.of("", Digest.parse(DIGEST_A), 0), List.of(), null, annotations);

    assertThat(List.copyOf(manifest.annotations().keySet()))
        .containsExactly("B", "a", "\uff61", emoji)
        .inOrder();
    assertThat(manifest.toJson())
        .endsWith(
            "\"annotations\":{\"B\":\"1\",\"a\":\"2\",\"\uff61\":\"3\",\"" + emoji + "\":\"4\"}}");
  }

  @Test
  void parse_dataWithLineBreaks_decoded() throws Exception {
    String json =
        "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"c\",\"digest\":\""
            + DIGEST_A
            + "\",\"size\":4,\"data\":\"dGVz\\r\\ndA==\"},\"layers\":[]}";

    assertThat(parse(json).config().data()).isEqualTo("test".getBytes(UTF_8));
  }

  @Test
  void parse_dockerV2Manifest() throws Exception {
    String json =
        "{\n   \"schemaVersion\": 2,\n"
            + "   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
            + "   \"config\": {\n"
            + "      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
            + "      \"size\": 1469,\n      \"digest\": \""
            + DIGEST_A
            + "\"\n   },\n"
            + "   \"layers\": [\n      {\n"
            + "         \"mediaType\": \"application/vnd.docker.image.rootfs.diff.tar.gzip\",\n"
            + "         \"size\": 2479,\n         \"digest\": \""
            + DIGEST_B
            + "\"\n      }\n"
            + "   ]\n}";

    ImageManifest manifest = parse(json);

    assertThat(manifest.mediaType()).isEqualTo(MediaType.DOCKER_MANIFEST);
    assertThat(manifest.config().mediaType()).isEqualTo(MediaType.DOCKER_CONFIG);
    assertThat(manifest.layers().get(0).mediaType()).isEqualTo(MediaType.DOCKER_LAYER_TAR_GZIP);
    assertThat(manifest.toJson())
        .isEqualTo(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2"
                + "+json\",\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1"
                + "+json\",\"digest\":\""
                + DIGEST_A
                + "\",\"size\":1469},\"layers\":[{\"mediaType"
                + "\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"digest\":\""
                + DIGEST_B
                + "\",\"size\":2479}]}");
  }

  @Test
  void parse_errors_nameMemberAndValue() {
    String config = "\"config\":{\"mediaType\":\"c\",\"digest\":\"" + DIGEST_A + "\",\"size\":7}";
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("", "invalid JSON: empty document");
    cases.put("  \n", "invalid JSON: empty document");
    cases.put("[]", "invalid JSON: expected an object, found an array");
    cases.put("null", "invalid JSON: expected an object, found null");
    cases.put(minimal("") + "{}", "invalid JSON: an object after the top-level object");
    cases.put("{" + config + ",\"layers\":[]}", "missing schemaVersion, expected 2");
    cases.put(
        "{\"schemaVersion\":1," + config + ",\"layers\":[]}",
        "unsupported schemaVersion 1, expected 2");
    cases.put(
        "{\"schemaVersion\":\"2\"," + config + "}",
        "invalid schemaVersion: expected an integer, found a string");
    cases.put(
        "{\"schemaVersion\":2.0," + config + "}",
        "invalid schemaVersion: expected an integer, found 2.0");
    cases.put("{\"schemaVersion\":2,\"layers\":[]}", "missing config");
    cases.put("{\"schemaVersion\":2,\"config\":{\"size\":1}}", "missing config.digest");
    cases.put(
        "{\"schemaVersion\":2,\"config\":{\"digest\":\"" + DIGEST_A + "\"}}",
        "missing config.size");
    cases.put(
        "{\"schemaVersion\":2,"
            + config
            + ",\"layers\":[{\"digest\":\""
            + DIGEST_B
            + "\",\"size\":1},{\"digest\":\"sha256:abc\",\"size\":1}]}",
        "invalid layers[1].digest \"sha256:abc\": expected 64 hex digits after \"sha256:\","
            + " found 3 characters");
    cases.put(
        "{\"schemaVersion\":2," + config + ",\"layers\":[{\"digest\":\"" + DIGEST_B + "\"}]}",
        "missing layers[0].size");
    cases.put(
        "{\"schemaVersion\":2,"
            + config
            + ",\"layers\":[{\"digest\":\""
            + DIGEST_B
            + "\",\"size\":-1}]}",
        "invalid layers[0].size -1: must not be negative");
    cases.put(
        "{\"schemaVersion\":2,\"config\":{\"digest\":\"" + DIGEST_A + "\",\"size\":\"4\"}}",
        "invalid config.size: expected an integer, found a string");
    cases.put(
        "{\"schemaVersion\":2,\"config\":{\"digest\":\"" + DIGEST_A + "\",\"size\":1e3}}",
        "invalid config.size: expected an integer, found 1e3");
    cases.put(
        "{\"schemaVersion\":2,\"config\":{\"digest\":\""
            + DIGEST_A
            + "\",\"size\":9223372036854775808}}",
        "invalid config.size: 9223372036854775808 does not fit in a 64-bit integer");
    cases.put(
        "{\"schemaVersion\":2,\"config\":{\"digest\":\""
            + DIGEST_A.toUpperCase(java.util.Locale.ROOT)
            + "\",\"size\":1}}",
        "invalid config.digest \""
            + DIGEST_A.toUpperCase(java.util.Locale.ROOT)
            + "\": unsupported algorithm \"SHA256\", expected sha256 or sha512");
    cases.put(
        "{\"schemaVersion\":2,\"config\":{\"digest\":5,\"size\":1}}",
        "invalid config.digest: expected a string, found a number");
    cases.put(
        "{\"schemaVersion\":2," + config + ",\"layers\":{}}",
        "invalid layers: expected an array, found an object");
    cases.put("{\"schemaVersion\":2," + config + ",\"layers\":[null]}", "missing layers[0].digest");
    cases.put(
        "{\"schemaVersion\":2," + config + ",\"layers\":[\"x\"]}",
        "invalid layers[0]: expected an object, found a string");
    cases.put(
        "{\"schemaVersion\":2,\"mediaType\":5," + config + "}",
        "invalid mediaType: expected a string, found a number");
    cases.put(
        "{\"schemaVersion\":2,"
            + config
            + ",\"layers\":[{\"digest\":\""
            + DIGEST_B
            + "\",\"size\":1,\"annotations\":{\"a\":true}}]}",
        "invalid layers[0].annotations[\"a\"]: expected a string, found a boolean");
    cases.put(
        "{\"schemaVersion\":2,\"config\":{\"digest\":\""
            + DIGEST_A
            + "\",\"size\":1,\"data\":\"dGVzdA\"}}",
        "invalid config.data: base64 length 6 is not a multiple of 4");
    cases.put(
        "{\"schemaVersion\":2,\"config\":{\"digest\":\""
            + DIGEST_A
            + "\",\"size\":1,\"data\":\"dG!zdA==\"}}",
        "invalid config.data: Illegal base64 character 21");
    cases.put(
        "{\"schemaVersion\":2,\"config\":{\"digest\":\""
            + DIGEST_A
            + "\",\"size\":1,\"platform\":\"linux\"}}",
        "invalid config.platform: expected an object, found a string");
    cases.put(
        "{\"schemaVersion\":2,\"config\":{\"digest\":\""
            + DIGEST_A
            + "\",\"size\":1,\"urls\":[1]}}",
        "invalid config.urls[0]: expected a string, found a number");
    cases.put(
        "{\"schemaVersion\":2,\"subject\":[]," + config + "}",
        "invalid subject: expected an object, found an array");

    for (Map.Entry<String, String> entry : cases.entrySet()) {
      OciFormatException e =
          assertThrows(OciFormatException.class, () -> parse(entry.getKey()), entry.getKey());
      assertWithMessage(entry.getKey()).that(e).hasMessageThat().isEqualTo(entry.getValue());
    }
  }

  @Test
  void parse_syntaxErrors_reportLocation() {
    List<String> invalid =
        List.of(
            "{",
            "{\"schemaVersion\":2,}",
            "{'schemaVersion':2}",
            "{\"schemaVersion\":02}",
            "{\"a\":\"tab\there\"}",
            "{\"a\":NaN}",
            "{\"a\":1} x",
            "\ufeff{}",
            "{\"a\":\"\\x\"}");

    for (String json : invalid) {
      OciFormatException e = assertThrows(OciFormatException.class, () -> parse(json), json);
      assertWithMessage(json).that(e).hasMessageThat().startsWith("invalid JSON");
    }
    OciFormatException e = assertThrows(OciFormatException.class, () -> parse("{\n\"a\":]"));
    assertThat(e).hasMessageThat().startsWith("invalid JSON at line 2, column 5: ");
  }
}
