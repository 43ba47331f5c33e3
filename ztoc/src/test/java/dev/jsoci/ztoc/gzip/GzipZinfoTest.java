package dev.jsoci.ztoc.gzip;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.ztoc.gzip.GzipBuilder.readAll;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.ztoc.CompressionAlgorithm;
import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.ZtocFormatException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.zip.Deflater;
import org.junit.jupiter.api.Test;

class GzipZinfoTest {
  private static final byte[] LAYER = GzipBuilder.resource("three-entry-layer.tar.gz");
  private static final HexFormat HEX = HexFormat.of();

  private static GzipZinfo layerZinfo() throws IOException {
    GzipCheckpointStream stream =
        new GzipCheckpointStream(new ByteArrayInputStream(LAYER), 1000, "l");
    readAll(stream);
    return stream.toZinfo(7168);
  }

  private static byte[] layerTar() throws IOException {
    return new java.util.zip.GZIPInputStream(new ByteArrayInputStream(LAYER)).readAllBytes();
  }

  private static byte[] window(int seed) {
    byte[] window = new byte[GzipCheckpoint.WINDOW_SIZE];
    new Random(seed).nextBytes(window);
    return window;
  }

  /** Returns a blob in the current layout with the given (in, out, bits) records. */
  private static byte[] blob(long spanSize, long[][] records) {
    ByteBuffer buffer =
        ByteBuffer.allocate(12 + records.length * GzipZinfo.RECORD_SIZE)
            .order(ByteOrder.LITTLE_ENDIAN);
    buffer.putInt(records.length).putLong(spanSize);
    for (int i = 0; i < records.length; i++) {
      buffer.putLong(records[i][0]).putLong(records[i][1]).put((byte) records[i][2]);
      buffer.put(window(i));
    }
    return buffer.array();
  }

  @Test
  void parse_emptyBlob_throws() {
    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> GzipZinfo.parse(new byte[0], 100, 100));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("checkpoint blob is 0 bytes, shorter than its 12-byte header");
  }

  @Test
  void parse_oneByte_throws() {
    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> GzipZinfo.parse(new byte[1], 100, 100));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("checkpoint blob is 1 bytes, shorter than its 12-byte header");
  }

  @Test
  void parse_claims255CheckpointsWithoutData_throws() {
    byte[] blob = HEX.parseHex("ff000000" + "0000000000000000");

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> GzipZinfo.parse(blob, 100, 100));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "checkpoint blob is 12 bytes but claims 255 checkpoints, which take 8360187 bytes"
                + " (8327402 in the legacy layout)");
  }

  @Test
  void parse_hugeClaimedCount_throwsWithoutAllocating() {
    byte[] blob = HEX.parseHex("ffffff7f" + "0000000000000000");

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> GzipZinfo.parse(blob, 100, 100));

    assertThat(e).hasMessageThat().contains("claims 2147483647 checkpoints");
  }

  @Test
  void parse_negativeCount_throws() {
    byte[] blob = HEX.parseHex("ffffffff" + "0000000000000000");

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> GzipZinfo.parse(blob, 100, 100));

    assertThat(e).hasMessageThat().contains("claims -1 checkpoints");
  }

  @Test
  void parse_zeroCheckpoints_hasNoSpans() throws ZtocFormatException {
    byte[] blob = HEX.parseHex("00000000" + "0000000000000000");

    GzipZinfo zinfo = GzipZinfo.parse(blob, 100, 100);

    assertThat(zinfo.maxSpanId()).isEqualTo(-1);
    assertThat(zinfo.isLegacyLayout()).isFalse();
    assertThat(zinfo.toBytes()).isEqualTo(blob);
    assertThrows(IndexOutOfBoundsException.class, () -> zinfo.span(0));
  }

  @Test
  void parse_legacyOneCheckpointWithoutData_synthesizesFirst() throws ZtocFormatException {
    byte[] blob = HEX.parseHex("01000000" + "0000000000000000");

    GzipZinfo zinfo = GzipZinfo.parse(blob, 500, 2048);

    assertThat(zinfo.isLegacyLayout()).isTrue();
    assertThat(zinfo.maxSpanId()).isEqualTo(0);
    assertThat(zinfo.span(0)).isEqualTo(new Span(0, 10, 500, 0, 2048));
    assertThat(zinfo.checkpoint(0).toString()).isEqualTo("(10,0,0)");
    assertThat(zinfo.checkpoint(0).window()).isEqualTo(new byte[GzipCheckpoint.WINDOW_SIZE]);
    assertThat(zinfo.toBytes()).isEqualTo(blob);
  }

  @Test
  void parse_legacyLayout_keepsStoredRecordsAfterFirst() throws IOException {
    // Drop record 0 of the layer's blob: what early releases wrote for a 10-byte header.
    byte[] current = layerZinfo().toBytes();
    byte[] legacy = new byte[current.length - GzipZinfo.RECORD_SIZE];
    System.arraycopy(current, 0, legacy, 0, 12);
    System.arraycopy(current, 12 + GzipZinfo.RECORD_SIZE, legacy, 12, legacy.length - 12);

    GzipZinfo zinfo = GzipZinfo.parse(legacy, LAYER.length, 7168);

    assertThat(zinfo.isLegacyLayout()).isTrue();
    assertThat(zinfo.toBytes()).isEqualTo(legacy);
    for (int id = 0; id <= 3; id++) {
      assertThat(zinfo.span(id)).isEqualTo(layerZinfo().span(id));
      assertThat(zinfo.checkpoint(id)).isEqualTo(layerZinfo().checkpoint(id));
    }
    Span span = zinfo.span(0);
    byte[] data = Arrays.copyOfRange(LAYER, (int) span.compressedStart(), LAYER.length);
    assertThat(zinfo.decompress(data, 0, 0, 7168)).isEqualTo(Arrays.copyOf(layerTar(), 7168));
  }

  @Test
  void parse_lengthNotHeaderPlusRecords_throws() {
    byte[] blob = Arrays.copyOf(blob(4096, new long[][] {{10, 0, 0}}), 12 + 32784);

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> GzipZinfo.parse(blob, 100, 100));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "checkpoint blob is 32796 bytes but claims 1 checkpoints, which take 32797 bytes"
                + " (12 in the legacy layout)");
  }

  @Test
  void parse_bitsAbove7_throws() {
    byte[] blob = blob(4096, new long[][] {{10, 0, 0}, {50, 5000, 8}});

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> GzipZinfo.parse(blob, 100, 10000));

    assertThat(e).hasMessageThat().isEqualTo("checkpoint 1 has bits 8, expected 0 to 7");
  }

  @Test
  void parse_compressedOffsetPastBlob_throws() {
    byte[] blob = blob(4096, new long[][] {{10, 0, 0}, {150, 5000, 0}});

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> GzipZinfo.parse(blob, 100, 10000));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("checkpoint 1 has compressed offset 150, outside the blob of 100 bytes");
  }

  @Test
  void parse_bitsAtOffsetZero_throws() {
    byte[] blob = blob(4096, new long[][] {{0, 0, 3}});

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> GzipZinfo.parse(blob, 100, 10000));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("checkpoint 0 has compressed offset 0, outside the blob of 100 bytes");
  }

  @Test
  void parse_negativeArchiveSize_throws() {
    byte[] blob = blob(4096, new long[][] {{10, 0, 0}});

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> GzipZinfo.parse(blob, 100, -1));

    assertThat(e).hasMessageThat().isEqualTo("uncompressed archive size is -1, expected >= 0");
  }

  @Test
  void parse_duplicateCheckpointAtZero_throwsNonMonotonic() {
    // What the reference builder writes for a stream that starts with an empty stored block.
    byte[] blob = blob(0, new long[][] {{10, 0, 0}, {15, 0, 0}, {60, 5000, 3}});

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> GzipZinfo.parse(blob, 100, 10000));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "span offsets are non-monotonic at span 0: compressed [10, 15), uncompressed [0, 0)");
  }

  @Test
  void parse_decreasingCompressedOffsets_throwsNonMonotonic() {
    byte[] blob = blob(0, new long[][] {{10, 0, 0}, {60, 5000, 3}, {40, 9000, 0}});

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> GzipZinfo.parse(blob, 100, 10000));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "span offsets are non-monotonic at span 1: compressed [59, 40), uncompressed [5000,"
                + " 9000)");
  }

  @Test
  void parse_negativeLastSpan_accepted() throws ZtocFormatException {
    // A checkpoint in the padding after the tar end-of-archive marker.
    byte[] blob = blob(1000, new long[][] {{10, 0, 0}, {60, 9000, 0}});

    GzipZinfo zinfo = GzipZinfo.parse(blob, 100, 7168);

    assertThat(zinfo.span(1)).isEqualTo(new Span(1, 60, 100, 9000, 7168));
    assertThat(zinfo.span(1).uncompressedLength()).isEqualTo(0);
  }

  @Test
  void parse_toBytes_roundTrips() throws IOException {
    GzipZinfo built = layerZinfo();

    GzipZinfo parsed = GzipZinfo.parse(built.toBytes(), LAYER.length, 7168);

    assertThat(parsed.toBytes()).isEqualTo(built.toBytes());
    assertThat(parsed.spanSize()).isEqualTo(1000);
    assertThat(parsed.algorithm()).isEqualTo(CompressionAlgorithm.GZIP);
    for (int id = 0; id <= built.maxSpanId(); id++) {
      assertThat(parsed.span(id)).isEqualTo(built.span(id));
      assertThat(parsed.checkpoint(id)).isEqualTo(built.checkpoint(id));
    }
  }

  @Test
  void checkpoints_layer_matchStreamCheckpoints() throws IOException {
    GzipCheckpointStream stream =
        new GzipCheckpointStream(new ByteArrayInputStream(LAYER), 1000, "l");
    readAll(stream);

    GzipZinfo parsed = GzipZinfo.parse(stream.toZinfo(7168).toBytes(), LAYER.length, 7168);

    assertThat(parsed.checkpoints()).isEqualTo(stream.checkpoints());
  }

  @Test
  void parse_copiesBlob() throws IOException {
    byte[] blob = layerZinfo().toBytes();
    GzipZinfo zinfo = GzipZinfo.parse(blob, LAYER.length, 7168);

    Arrays.fill(blob, (byte) 0);

    assertThat(zinfo.toBytes()).isEqualTo(layerZinfo().toBytes());
  }

  @Test
  void of_writesCurrentLayout() {
    byte[] windowBytes = window(5);
    GzipZinfo zinfo =
        GzipZinfo.of(
            List.of(
                GzipCheckpoint.of(10, 0, 0, new byte[GzipCheckpoint.WINDOW_SIZE]),
                GzipCheckpoint.of(300, 70000, 6, windowBytes)),
            65536,
            900,
            140000);

    byte[] blob = zinfo.toBytes();

    assertThat(blob).hasLength(12 + 2 * 32785);
    assertThat(HEX.formatHex(blob, 0, 12)).isEqualTo("02000000" + "0000010000000000");
    int second = 12 + 32785;
    assertThat(HEX.formatHex(blob, second, second + 17))
        .isEqualTo("2c01000000000000" + "7011010000000000" + "06");
    assertThat(Arrays.copyOfRange(blob, second + 17, second + 32785)).isEqualTo(windowBytes);
  }

  @Test
  void of_nonMonotonic_throws() {
    byte[] zeros = new byte[GzipCheckpoint.WINDOW_SIZE];
    List<GzipCheckpoint> checkpoints =
        List.of(GzipCheckpoint.of(10, 0, 0, zeros), GzipCheckpoint.of(20, 0, 0, zeros));

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> GzipZinfo.of(checkpoints, 0, 90, 90));

    assertThat(e).hasMessageThat().startsWith("span offsets are non-monotonic at span 0");
  }

  @Test
  void of_negativeSpanSize_throws() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> GzipZinfo.of(List.of(), -1, 0, 0));

    assertThat(e).hasMessageThat().isEqualTo("spanSize is -1, expected >= 0");
  }

  @Test
  void checkpointOf_invalidValues_throw() {
    byte[] zeros = new byte[GzipCheckpoint.WINDOW_SIZE];

    assertThat(
            assertThrows(IllegalArgumentException.class, () -> GzipCheckpoint.of(5, 0, 8, zeros)))
        .hasMessageThat()
        .isEqualTo("bits is 8, expected 0 to 7");
    assertThat(
            assertThrows(IllegalArgumentException.class, () -> GzipCheckpoint.of(0, 0, 1, zeros)))
        .hasMessageThat()
        .isEqualTo("bits is 1 at compressedOffset 0");
    assertThat(
            assertThrows(
                IllegalArgumentException.class, () -> GzipCheckpoint.of(5, 0, 0, new byte[10])))
        .hasMessageThat()
        .isEqualTo("window is 10 bytes, expected 32768");
  }

  @Test
  void spanOf_offsets_returnContainingSpan() throws IOException {
    GzipZinfo zinfo = layerZinfo();

    assertThat(zinfo.spanOf(0)).isEqualTo(0);
    assertThat(zinfo.spanOf(1023)).isEqualTo(0);
    assertThat(zinfo.spanOf(1024)).isEqualTo(1);
    assertThat(zinfo.spanOf(2559)).isEqualTo(1);
    assertThat(zinfo.spanOf(2560)).isEqualTo(2);
    assertThat(zinfo.spanOf(6144)).isEqualTo(3);
    assertThat(zinfo.spanOf(1_000_000)).isEqualTo(3);
    assertThat(zinfo.spanOf(-5)).isEqualTo(0);
  }

  @Test
  void decompress_lengthZero_returnsEmptyWithoutReadingData() throws IOException {
    GzipZinfo zinfo = layerZinfo();

    assertThat(zinfo.decompress(new byte[0], 99, -1, 0)).isEmpty();
  }

  @Test
  void decompress_negativeLength_throws() throws IOException {
    GzipZinfo zinfo = layerZinfo();

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> zinfo.decompress(LAYER, 0, 0, -1));

    assertThat(e).hasMessageThat().isEqualTo("length is -1, expected >= 0");
  }

  @Test
  void decompress_emptyCompressed_throws() throws IOException {
    GzipZinfo zinfo = layerZinfo();

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> zinfo.decompress(new byte[0], 0, 0, 10));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("compressed is 0 bytes, expected at least 116 for spans 0 to 0");
  }

  @Test
  void decompress_compressedShorterThanLastSpan_throws() throws IOException {
    GzipZinfo zinfo = layerZinfo();
    byte[] data = Arrays.copyOfRange(LAYER, 125, 400);

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> zinfo.decompress(data, 1, 2000, 3000));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("compressed is 275 bytes, expected at least 367 for spans 1 to 2");
  }

  @Test
  void decompress_spanIdOutOfRange_throws() throws IOException {
    GzipZinfo zinfo = layerZinfo();

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> zinfo.decompress(LAYER, 4, 7000, 10));

    assertThat(e).hasMessageThat().isEqualTo("firstSpan is 4, expected 0 to 3");
    assertThrows(IllegalArgumentException.class, () -> zinfo.decompress(LAYER, -1, 0, 10));
  }

  @Test
  void decompress_offsetOutsideFirstSpan_throws() throws IOException {
    GzipZinfo zinfo = layerZinfo();

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> zinfo.decompress(LAYER, 1, 3000, 10));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("uncompressedOffset 3000 is not in span 1, which starts at 1024");
    assertThrows(IllegalArgumentException.class, () -> zinfo.decompress(LAYER, 1, 1000, 10));
  }

  @Test
  void decompress_rangeInsideSpan_returnsSlice() throws IOException {
    GzipZinfo zinfo = layerZinfo();
    byte[] tar = layerTar();
    byte[] data = Arrays.copyOfRange(LAYER, 151, 492);

    assertThat(zinfo.decompress(data, 2, 3000, 1000))
        .isEqualTo(Arrays.copyOfRange(tar, 3000, 4000));
  }

  @Test
  void decompress_rangeAcrossSpans_returnsBytes() throws IOException {
    GzipZinfo zinfo = layerZinfo();
    byte[] tar = layerTar();
    byte[] data = Arrays.copyOfRange(LAYER, 125, LAYER.length);

    assertThat(zinfo.decompress(data, 1, 2000, 8240))
        .isEqualTo(Arrays.copyOfRange(tar, 2000, 10240));
  }

  @Test
  void decompress_rangePastEndOfData_throwsShort() throws IOException {
    GzipZinfo zinfo = layerZinfo();
    byte[] data = Arrays.copyOfRange(LAYER, 491, LAYER.length);

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> zinfo.decompress(data, 3, 10000, 1000));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "span 3: compressed data ends at uncompressed offset 10240, inside the requested"
                + " range [10000, 11000)");
  }

  @Test
  void decompress_truncatedSpanData_throwsShort() throws IOException {
    GzipZinfo zinfo = layerZinfo();
    // Span 2 is [151, 492). Zero it from byte 200 on, so it cannot decode to the span's bytes.
    byte[] data = Arrays.copyOfRange(LAYER, 151, 492);
    Arrays.fill(data, 200, data.length, (byte) 0);

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> zinfo.decompress(data, 2, 2560, 3584));

    assertThat(e).hasMessageThat().startsWith("span 2: ");
  }

  @Test
  void decompress_corruptData_throwsNamingSpan() throws IOException {
    GzipZinfo zinfo = layerZinfo();
    byte[] data = Arrays.copyOfRange(LAYER, 10, 126);
    // Checkpoint 0 is byte aligned; BTYPE 11 in the first byte is reserved (RFC 1951 3.2.3).
    data[0] |= 0x06;

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> zinfo.decompress(data, 0, 0, 1024));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("span 0: corrupt deflate data before compressed offset 11: invalid block type");
  }

  @Test
  void decompress_secondMemberCrcMismatch_throws() throws IOException {
    byte[] data = GzipCheckpointStreamTest.randomText(new Random(4), 20_000);
    GzipBuilder builder =
        new GzipBuilder()
            .startMember(6)
            .write(Arrays.copyOf(data, 10_000), Deflater.NO_FLUSH)
            .finishMember();
    byte[] blob =
        builder
            .startMember(6)
            .write(Arrays.copyOfRange(data, 10_000, 20_000), Deflater.NO_FLUSH)
            .finishMember()
            .blob();
    GzipCheckpointStream stream =
        new GzipCheckpointStream(new ByteArrayInputStream(blob), 1_000_000, "l");
    readAll(stream);
    GzipZinfo zinfo = stream.toZinfo(data.length);
    byte[] spanData = Arrays.copyOfRange(blob, 10, blob.length);
    spanData[spanData.length - 8] ^= 0x01;

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> zinfo.decompress(spanData, 0, 0, 20_000));

    assertThat(e).hasMessageThat().startsWith("span 0: crc32 mismatch in gzip trailer: stored ");
    assertThat(e).hasMessageThat().endsWith("at compressed offset " + (blob.length - 8));
    // A range that ends before the second member's trailer does not reach the check.
    assertThat(zinfo.decompress(spanData, 0, 0, 19_999)).isEqualTo(Arrays.copyOf(data, 19_999));
  }

  @Test
  void decompress_invalidSecondHeader_throws() throws IOException {
    byte[] data = GzipCheckpointStreamTest.randomText(new Random(5), 20_000);
    GzipBuilder builder =
        new GzipBuilder()
            .startMember(6)
            .write(Arrays.copyOf(data, 10_000), Deflater.NO_FLUSH)
            .finishMember();
    int secondStart = builder.blobLength();
    byte[] blob =
        builder
            .startMember(6)
            .write(Arrays.copyOfRange(data, 10_000, 20_000), Deflater.NO_FLUSH)
            .finishMember()
            .blob();
    GzipCheckpointStream stream =
        new GzipCheckpointStream(new ByteArrayInputStream(blob), 1_000_000, "l");
    readAll(stream);
    GzipZinfo zinfo = stream.toZinfo(data.length);
    byte[] spanData = Arrays.copyOfRange(blob, 10, blob.length);
    spanData[secondStart - 10 + 2] = 9;

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> zinfo.decompress(spanData, 0, 5000, 10_000));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "span 0: invalid gzip member header: gzip compression method is 9, expected 8"
                + " (deflate) at compressed offset "
                + (secondStart + 2));
  }

  @Test
  void decompress_concurrentCalls_allCorrect() throws Exception {
    GzipZinfo zinfo = layerZinfo();
    byte[] tar = layerTar();
    byte[] data = Arrays.copyOfRange(LAYER, 10, LAYER.length);
    List<Thread> threads = new java.util.ArrayList<>();
    java.util.concurrent.atomic.AtomicInteger failures =
        new java.util.concurrent.atomic.AtomicInteger();
    for (int t = 0; t < 4; t++) {
      Thread thread =
          new Thread(
              () -> {
                for (int i = 0; i < 200; i++) {
                  try {
                    if (!Arrays.equals(zinfo.decompress(data, 0, 0, 10240), tar)) {
                      failures.incrementAndGet();
                    }
                  } catch (IOException e) {
                    failures.incrementAndGet();
                  }
                }
              });
      threads.add(thread);
      thread.start();
    }
    for (Thread thread : threads) {
      thread.join();
    }

    assertThat(failures.get()).isEqualTo(0);
  }
}
