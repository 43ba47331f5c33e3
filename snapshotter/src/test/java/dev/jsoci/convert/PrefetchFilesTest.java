package dev.jsoci.convert;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.oci.PrefetchArtifact;
import dev.jsoci.oci.PrefetchArtifact.SpanRange;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrefetchFilesTest {

  @Test
  void cleanPath_cleansAsAnAbsolutePath() {
    assertThat(PrefetchFiles.cleanPath("/usr/bin/tool")).isEqualTo("usr/bin/tool");
    assertThat(PrefetchFiles.cleanPath("usr//bin/./tool/")).isEqualTo("usr/bin/tool");
    assertThat(PrefetchFiles.cleanPath("/a/b/../../../c")).isEqualTo("c");
    assertThat(PrefetchFiles.cleanPath("../etc/passwd")).isEqualTo("etc/passwd");
    assertThat(PrefetchFiles.cleanPath("./")).isEmpty();
  }

  @Test
  void clean_dropsBlanksDuplicatesAndTheRoot() {
    assertThat(PrefetchFiles.clean(List.of(" /app/x ", "", "  ", "app/x", "/", "app/y")))
        .containsExactly("app/x", "app/y")
        .inOrder();
  }

  @Test
  void clean_nulCharacter_isRejectedWithThePath() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> PrefetchFiles.clean(List.of("a\0b")));

    assertThat(e).hasMessageThat().isEqualTo("prefetch file \"a\\0b\" contains a NUL character");
  }

  @Test
  void resolve_topMostIndexedLayer_wins() {
    Map<String, SpanRange> bottom =
        Map.of("a", SpanRange.of(0, 1), "b", SpanRange.of(5, 6), "c", SpanRange.of(2, 3));
    Map<String, SpanRange> top = Map.of("b", SpanRange.of(9, 9));

    PrefetchFiles.Resolution resolution =
        PrefetchFiles.resolve(Arrays.asList(bottom, null, top), List.of("a", "b", "c", "d"));

    assertThat(resolution.notFound()).containsExactly("d");
    assertThat(resolution.artifacts().get(0).spans())
        .containsExactly(SpanRange.of(0, 3))
        .inOrder();
    assertThat(resolution.artifacts().get(1)).isNull();
    assertThat(resolution.artifacts().get(2))
        .isEqualTo(new PrefetchArtifact(List.of(SpanRange.of(9, 9))));
  }

  @Test
  void resolve_noPathFound_givesNoArtifact() {
    PrefetchFiles.Resolution resolution =
        PrefetchFiles.resolve(Arrays.asList(Map.of(), null), List.of("x"));

    assertThat(resolution.artifacts()).containsExactly(null, null);
    assertThat(resolution.notFound()).containsExactly("x");
  }
}
