package dev.jsoci.ztoc.gzip;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static dev.jsoci.ztoc.gzip.GzipBuilder.readAll;

import dev.jsoci.ztoc.Span;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.Deflater;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Checks the libdeflate path of span inflation against the known bytes: every whole span of a layer
 * decodes through it, checkpoints at every bit position inside a byte included, and what it cannot
 * decode, it declines rather than decoding wrongly.
 */
class WholeSpanInflaterTest {
  private static final int SPAN_SIZE = 4096;

  private record Layer(byte[] blob, byte[] data, GzipZinfo zinfo) {}

  @BeforeAll
  static void libdeflateIsInstalled() {
    assertWithMessage("libdeflate.so.0 (Debian package libdeflate0) must be installed for tests")
        .that(WholeSpanInflater.isAvailable())
        .isTrue();
  }

  private static Layer layer(GzipBuilder builder, byte[] data) throws IOException {
    byte[] blob = builder.blob();
    GzipCheckpointStream stream =
        new GzipCheckpointStream(new ByteArrayInputStream(blob), SPAN_SIZE, "test layer");
    assertThat(Arrays.equals(readAll(stream), data)).isTrue();
    return new Layer(blob, data, stream.toZinfo(data.length));
  }

  private static Layer mixedLayer(long seed) throws IOException {
    return mixedLayer(seed, 12 << 20, 6, Deflater.DEFAULT_STRATEGY);
  }

  private static Layer mixedLayer(long seed, int size, int level, int strategy) throws IOException {
    byte[] data = GzipRoundTripPropertyTest.randomData(new Random(seed), size);
    GzipBuilder builder = new GzipBuilder().startMember(level).strategy(strategy);
    for (int position = 0; position < data.length; position += 100_000) {
      int end = Math.min(data.length, position + 100_000);
      builder.write(Arrays.copyOfRange(data, position, end), Deflater.NO_FLUSH);
    }
    return layer(builder.finishMember(), data);
  }

  /** Inflates span {@code id} of {@code layer} from {@code skip} on through libdeflate alone. */
  private static boolean inflate(Layer layer, int id, byte[] compressed, int skip, byte[] result) {
    GzipZinfo zinfo = layer.zinfo();
    Span span = zinfo.span(id);
    int windowOffset = zinfo.windowOffset(id);
    return WholeSpanInflater.inflate(
        compressed,
        zinfo.bits(id),
        windowOffset < 0 ? new byte[GzipCheckpoint.WINDOW_SIZE] : zinfo.toBytes(),
        Math.max(windowOffset, 0),
        zinfo.endBit(id),
        (int) span.uncompressedLength(),
        skip,
        result,
        (int) span.uncompressedLength() - skip);
  }

  private static byte[] compressedOf(Layer layer, Span span) {
    return Arrays.copyOfRange(
        layer.blob(), (int) span.compressedStart(), (int) span.compressedEnd());
  }

  @Test
  void inflate_everyInnerSpan_matchesData() throws IOException {
    Layer layer = mixedLayer(7);
    GzipZinfo zinfo = layer.zinfo();
    assertThat(zinfo.maxSpanId()).isGreaterThan(100);

    TreeSet<Integer> bitsSeen = checkEverySpanButTheLast(layer);

    assertThat(bitsSeen).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
  }

  /**
   * Checks that every span but the last goes through libdeflate to the layer's bytes, and returns
   * the checkpoints' bit offsets seen.
   */
  private static TreeSet<Integer> checkEverySpanButTheLast(Layer layer) {
    GzipZinfo zinfo = layer.zinfo();
    TreeSet<Integer> bitsSeen = new TreeSet<>();
    for (int id = 0; id < zinfo.maxSpanId(); id++) {
      Span span = zinfo.span(id);
      int length = (int) span.uncompressedLength();
      byte[] result = new byte[length];

      boolean decoded = inflate(layer, id, compressedOf(layer, span), 0, result);

      assertWithMessage("span %s decoded by libdeflate", span).that(decoded).isTrue();
      int start = (int) span.uncompressedStart();
      assertWithMessage("bytes of span %s", span)
          .that(Arrays.equals(result, 0, length, layer.data(), start, start + length))
          .isTrue();
      bitsSeen.add(zinfo.bits(id));
    }
    return bitsSeen;
  }

  /** Levels and strategies of zlib, whose blocks differ: stored, fixed and dynamic codes. */
  static Stream<Arguments> levelsAndStrategies() {
    return Stream.of(
        Arguments.of(0, Deflater.DEFAULT_STRATEGY),
        Arguments.of(1, Deflater.DEFAULT_STRATEGY),
        Arguments.of(9, Deflater.DEFAULT_STRATEGY),
        Arguments.of(6, Deflater.FILTERED),
        Arguments.of(6, Deflater.HUFFMAN_ONLY));
  }

  @ParameterizedTest(name = "level {0}, strategy {1}")
  @MethodSource("levelsAndStrategies")
  void inflate_levelAndStrategy_matchesTheData(int level, int strategy) throws IOException {
    Layer layer = mixedLayer(19, 3 << 20, level, strategy);
    GzipZinfo zinfo = layer.zinfo();
    assertThat(zinfo.maxSpanId()).isAtLeast(5);

    checkEverySpanButTheLast(layer);
  }

  @Test
  void inflate_fromAnOffset_returnsTheSpansTail() throws IOException {
    Layer layer = mixedLayer(11);
    Span span = layer.zinfo().span(5);
    int skip = 1000;
    byte[] result = new byte[(int) span.uncompressedLength() - skip];

    assertThat(inflate(layer, 5, compressedOf(layer, span), skip, result)).isTrue();

    int start = (int) span.uncompressedStart() + skip;
    assertThat(Arrays.equals(result, 0, result.length, layer.data(), start, start + result.length))
        .isTrue();
  }

  @Test
  void inflate_spanWithAMemberEnd_declines() throws IOException {
    // The first member is shorter than a span, so the first span runs on into the second member,
    // whose flushes give the checkpoints after it.
    byte[] first = GzipCheckpointStreamTest.randomText(new Random(3), 1000);
    byte[] second = GzipCheckpointStreamTest.randomText(new Random(4), 30_000);
    GzipBuilder builder = new GzipBuilder().startMember(6);
    builder.write(first, Deflater.NO_FLUSH).finishMember().startMember(6);
    for (int position = 0; position < second.length; position += 5000) {
      builder.write(Arrays.copyOfRange(second, position, position + 5000), Deflater.SYNC_FLUSH);
    }
    builder.finishMember();
    byte[] data = new byte[first.length + second.length];
    System.arraycopy(first, 0, data, 0, first.length);
    System.arraycopy(second, 0, data, first.length, second.length);
    Layer layer = layer(builder, data);
    GzipZinfo zinfo = layer.zinfo();
    assertThat(zinfo.maxSpanId()).isAtLeast(1);
    Span span = zinfo.span(0);
    assertThat(span.uncompressedEnd()).isGreaterThan(first.length);

    boolean decoded =
        inflate(layer, 0, compressedOf(layer, span), 0, new byte[(int) span.uncompressedLength()]);

    assertThat(decoded).isFalse();
    // The zlib path crosses the member boundary.
    byte[] whole =
        zinfo.decompress(compressedOf(layer, span), 0, 0, (int) span.uncompressedLength());
    assertThat(Arrays.equals(whole, 0, whole.length, data, 0, whole.length)).isTrue();
  }

  @Test
  void inflate_truncatedSpan_declines() throws IOException {
    Layer layer = mixedLayer(13);
    Span span = layer.zinfo().span(3);
    byte[] compressed = compressedOf(layer, span);
    byte[] truncated = Arrays.copyOf(compressed, compressed.length / 2);

    boolean decoded = inflate(layer, 3, truncated, 0, new byte[(int) span.uncompressedLength()]);

    assertThat(decoded).isFalse();
  }

  @Test
  void inflate_endBitTooEarly_declines() throws IOException {
    // An end bit 200 bits before the span's real end puts the final block inside a block's codes,
    // so libdeflate cannot give the span's length, and the call declines.
    Layer layer = mixedLayer(17);
    GzipZinfo zinfo = layer.zinfo();
    Span span = zinfo.span(8);
    byte[] compressed = compressedOf(layer, span);
    int length = (int) span.uncompressedLength();

    boolean decoded =
        WholeSpanInflater.inflate(
            compressed,
            zinfo.bits(8),
            zinfo.toBytes(),
            zinfo.windowOffset(8),
            (long) compressed.length * 8 - 200,
            length,
            0,
            new byte[length],
            length);

    assertThat(decoded).isFalse();
  }
}
