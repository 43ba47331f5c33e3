package dev.jsoci.oci;

import static com.google.common.truth.Truth.assertThat;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.oci.PrefetchArtifact.SpanRange;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrefetchArtifactTest {

  @Test
  void toBytes_writesCompactJsonWithoutZeroPriority() {
    PrefetchArtifact artifact =
        new PrefetchArtifact(List.of(SpanRange.of(10, 15), new SpanRange(50, 55, 2)));

    assertThat(new String(artifact.toBytes(), UTF_8))
        .isEqualTo(
            "{\"version\":\"1.0\",\"prefetch_spans\":[{\"start_span\":10,\"end_span\":15},"
                + "{\"start_span\":50,\"end_span\":55,\"priority\":2}]}");
  }

  @Test
  void toBytes_noRanges_writesEmptyArray() {
    assertThat(new String(new PrefetchArtifact(List.of()).toBytes(), UTF_8))
        .isEqualTo("{\"version\":\"1.0\",\"prefetch_spans\":[]}");
  }

  @Test
  void parse_readsWhatToBytesWrote() throws OciFormatException {
    PrefetchArtifact artifact =
        new PrefetchArtifact(List.of(SpanRange.of(0, 0), new SpanRange(3, 7, -1)));

    assertThat(PrefetchArtifact.parse(artifact.toBytes())).isEqualTo(artifact);
  }

  @Test
  void parse_mixedCaseAndUnknownMembers_areRead() throws OciFormatException {
    String json =
        "{\"Version\":\"1.0\",\"extra\":[1,{}],"
            + "\"PREFETCH_SPANS\":[{\"Start_Span\":4,\"end_span\":9,\"note\":\"x\"}]}";

    assertThat(PrefetchArtifact.parse(json.getBytes(UTF_8)).spans())
        .containsExactly(SpanRange.of(4, 9));
  }

  @Test
  void parse_nullSpans_readsAsNoRanges() throws OciFormatException {
    String json = "{\"version\":\"1.0\",\"prefetch_spans\":null}";

    assertThat(PrefetchArtifact.parse(json.getBytes(UTF_8)).spans()).isEmpty();
  }

  @Test
  void parse_otherVersion_namesIt() {
    String json = "{\"version\":\"2.0\",\"prefetch_spans\":[]}";

    OciFormatException e =
        assertThrows(OciFormatException.class, () -> PrefetchArtifact.parse(json.getBytes(UTF_8)));

    assertThat(e).hasMessageThat().contains("version \"2.0\", expected 1.0");
  }

  @Test
  void parse_missingVersion_isRejected() {
    OciFormatException e =
        assertThrows(
            OciFormatException.class,
            () -> PrefetchArtifact.parse("{\"prefetch_spans\":[]}".getBytes(UTF_8)));

    assertThat(e).hasMessageThat().contains("version \"\"");
  }

  @Test
  void parse_reversedRange_namesIt() {
    String json =
        "{\"version\":\"1.0\",\"prefetch_spans\":[{\"start_span\":1,\"end_span\":2},"
            + "{\"start_span\":5,\"end_span\":4}]}";

    OciFormatException e =
        assertThrows(OciFormatException.class, () -> PrefetchArtifact.parse(json.getBytes(UTF_8)));

    assertThat(e).hasMessageThat().contains("prefetch_spans[1]: start_span 5 and end_span 4");
  }

  @Test
  void parse_spanIdBeyond32Bits_isRejected() {
    String json =
        "{\"version\":\"1.0\",\"prefetch_spans\":[{\"start_span\":0,\"end_span\":4294967296}]}";

    OciFormatException e =
        assertThrows(OciFormatException.class, () -> PrefetchArtifact.parse(json.getBytes(UTF_8)));

    assertThat(e).hasMessageThat().contains("prefetch_spans[0].end_span: 4294967296");
  }

  @Test
  void parse_notJsonObject_isRejected() {
    assertThrows(OciFormatException.class, () -> PrefetchArtifact.parse("[1,2]".getBytes(UTF_8)));
    assertThrows(
        OciFormatException.class,
        () ->
            PrefetchArtifact.parse("{\"version\":\"1.0\",\"prefetch_spans\":[3]}".getBytes(UTF_8)));
  }

  @Test
  void merging_sortsAndJoinsOverlappingAndAdjacentRanges() {
    PrefetchArtifact merged =
        PrefetchArtifact.merging(
            List.of(
                SpanRange.of(50, 55),
                SpanRange.of(10, 12),
                SpanRange.of(13, 15),
                SpanRange.of(11, 11),
                SpanRange.of(54, 60),
                SpanRange.of(62, 62)));

    assertThat(merged.spans())
        .containsExactly(SpanRange.of(10, 15), SpanRange.of(50, 60), SpanRange.of(62, 62))
        .inOrder();
    assertThat(merged.spanCount()).isEqualTo(6 + 11 + 1);
  }

  @Test
  void spanRange_negativeOrReversed_isRejected() {
    assertThrows(IllegalArgumentException.class, () -> SpanRange.of(-1, 0));
    assertThrows(IllegalArgumentException.class, () -> SpanRange.of(3, 2));
  }
}
