package dev.jsoci.convert;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.convert.TestImages.randomBytes;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.convert.TestImages.TarEntry;
import dev.jsoci.oci.PrefetchArtifact.SpanRange;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.Zinfos;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrefetchFilesTest {
  /** 64 KiB spans: each 200,000-byte file covers several. */
  private static final long SPAN_SIZE = 64 * 1024;

  @Test
  void cleanPath_cleansAsAnAbsolutePath() {
    assertThat(PrefetchFiles.cleanPath("/usr/bin/tool")).isEqualTo("usr/bin/tool");
    assertThat(PrefetchFiles.cleanPath("usr//bin/./tool/")).isEqualTo("usr/bin/tool");
    assertThat(PrefetchFiles.cleanPath("/a/b/../../../c")).isEqualTo("c");
    assertThat(PrefetchFiles.cleanPath("../etc/passwd")).isEqualTo("etc/passwd");
    assertThat(PrefetchFiles.cleanPath("./")).isEmpty();
  }

  @Test
  void clean_trimsAndDropsDuplicates() {
    assertThat(PrefetchFiles.clean(List.of(" /app/x ", "app/x", "app/./y")))
        .containsExactly("app/x", "app/y")
        .inOrder();
  }

  @Test
  void clean_invalidPath_isRejected() {
    IllegalArgumentException blank =
        assertThrows(IllegalArgumentException.class, () -> PrefetchFiles.clean(List.of("  ")));
    IllegalArgumentException root =
        assertThrows(IllegalArgumentException.class, () -> PrefetchFiles.clean(List.of("/./")));
    IllegalArgumentException nul =
        assertThrows(IllegalArgumentException.class, () -> PrefetchFiles.clean(List.of("a\0b")));

    assertThat(blank).hasMessageThat().isEqualTo("invalid prefetch file \"  \": it is blank");
    assertThat(root)
        .hasMessageThat()
        .isEqualTo("invalid prefetch file \"/./\": it names the root directory, which has no data");
    assertThat(nul)
        .hasMessageThat()
        .isEqualTo("invalid prefetch file \"a\\0b\": it contains a NUL character");
  }

  /** Builds the zTOC of a gzip layer of {@code entries} and indexes its files. */
  private static PrefetchFiles.LayerFiles layer(TarEntry... entries) throws IOException {
    byte[] blob = TestImages.gzip(TestImages.tar(List.of(entries)));
    Ztoc ztoc =
        new ZtocBuilder(SPAN_SIZE, "jsoci test").build(new ByteArrayInputStream(blob), "layer");
    return PrefetchFiles.LayerFiles.of(ztoc, Zinfos.of(ztoc, "layer"));
  }

  private static Zinfo zinfoOf(TarEntry... entries) throws IOException {
    byte[] blob = TestImages.gzip(TestImages.tar(List.of(entries)));
    Ztoc ztoc =
        new ZtocBuilder(SPAN_SIZE, "jsoci test").build(new ByteArrayInputStream(blob), "layer");
    return Zinfos.of(ztoc, "layer");
  }

  /** Returns the spans of the {@code index}-th entry's data when no entry before it has data. */
  private static SpanRange spansAfterHeaders(Zinfo zinfo, int index, int size) {
    long offset = 512L * (index + 1);
    return SpanRange.of(zinfo.spanOf(offset), zinfo.spanOf(offset + size));
  }

  private static final byte[] BIG = randomBytes(200_000, 1);
  private static final byte[] OTHER = randomBytes(200_000, 2);

  @Test
  void resolve_topMostIndexedLayer_wins() throws IOException {
    TarEntry[] lower = {TarEntry.file("app/shared", BIG), TarEntry.file("./app/lower", OTHER)};
    TarEntry[] upper = {TarEntry.file("app/shared", OTHER)};

    PrefetchFiles.Resolution resolution =
        PrefetchFiles.resolve(
            Arrays.asList(layer(lower), null, layer(upper)),
            List.of("app/shared", "app/lower", "app/missing"));

    assertThat(resolution.artifacts().get(0).spans())
        .containsExactly(spansOfSecondFile(zinfoOf(lower)));
    assertThat(resolution.artifacts().get(1)).isNull();
    assertThat(resolution.artifacts().get(2).spans())
        .containsExactly(spansAfterHeaders(zinfoOf(upper), 0, OTHER.length));
    assertThat(resolution.problems())
        .containsExactly(new PrefetchFiles.Problem("app/missing", "is in no layer with a zTOC"));
  }

  /** Returns the spans of the second of two 200,000-byte files. */
  private static SpanRange spansOfSecondFile(Zinfo zinfo) {
    long offset = 512 + 200_192 + 512;
    return SpanRange.of(zinfo.spanOf(offset), zinfo.spanOf(offset + 200_000));
  }

  @Test
  void resolve_whiteoutAbove_hidesFile() throws IOException {
    PrefetchFiles.LayerFiles lower =
        layer(TarEntry.file("app/gone", BIG), TarEntry.file("data/old", OTHER));
    PrefetchFiles.LayerFiles upper =
        layer(
            TarEntry.file("app/.wh.gone", new byte[0]),
            TarEntry.file("data/.wh..wh..opq", new byte[0]));

    PrefetchFiles.Resolution resolution =
        PrefetchFiles.resolve(Arrays.asList(lower, upper), List.of("app/gone", "data/old"));

    assertThat(resolution.artifacts()).containsExactly(null, null);
    assertThat(resolution.problems())
        .containsExactly(
            new PrefetchFiles.Problem("app/gone", "is deleted by a whiteout in layer 2"),
            new PrefetchFiles.Problem("data/old", "is deleted by a whiteout in layer 2"))
        .inOrder();
  }

  @Test
  void resolve_fileOverDirectory_hidesLower() throws IOException {
    PrefetchFiles.LayerFiles lower = layer(TarEntry.file("app/lib/x", BIG));
    PrefetchFiles.LayerFiles upper = layer(TarEntry.file("app/lib", OTHER));

    PrefetchFiles.Resolution resolution =
        PrefetchFiles.resolve(Arrays.asList(lower, upper), List.of("app/lib/x"));

    assertThat(resolution.artifacts()).containsExactly(null, null);
    assertThat(resolution.problems())
        .containsExactly(
            new PrefetchFiles.Problem(
                "app/lib/x", "is hidden by a file in place of one of its directories in layer 2"));
  }

  @Test
  void resolve_linksAreFollowed() throws IOException {
    TarEntry[] lower = {
      TarEntry.file("usr/lib/libx.so.1", BIG),
      TarEntry.symlink("lib", "usr/lib"),
      TarEntry.symlink("usr/lib/libx.so", "libx.so.1"),
      TarEntry.hardlink("usr/lib/copy", "usr/lib/libx.so.1"),
      TarEntry.symlink("etc/x", "/usr/lib/libx.so"),
    };
    PrefetchFiles.LayerFiles files = layer(lower);
    SpanRange expected = spansAfterHeaders(zinfoOf(lower), 0, BIG.length);

    for (String path : List.of("lib/libx.so", "usr/lib/copy", "etc/x", "usr/lib/libx.so.1")) {
      PrefetchFiles.Resolution resolution = PrefetchFiles.resolve(List.of(files), List.of(path));

      assertThat(resolution.problems()).isEmpty();
      assertThat(resolution.artifacts().get(0).spans()).containsExactly(expected);
    }
  }

  @Test
  void resolve_directoriesLoopsAndDanglingLinks_areReported() throws IOException {
    PrefetchFiles.LayerFiles files =
        layer(
            TarEntry.directory("app/"),
            TarEntry.symlink("loop", "loop"),
            TarEntry.symlink("dangling", "/nowhere/file"));

    PrefetchFiles.Resolution resolution =
        PrefetchFiles.resolve(List.of(files), List.of("app", "loop", "dangling"));

    assertThat(resolution.artifacts()).containsExactly((Object) null);
    assertThat(resolution.problems())
        .containsExactly(
            new PrefetchFiles.Problem("app", "is a directory"),
            new PrefetchFiles.Problem("loop", "has too many levels of symbolic links"),
            new PrefetchFiles.Problem(
                "dangling", "leads to /nowhere/file, which is in no layer with a zTOC"))
        .inOrder();
  }
}
