package dev.jsoci.ztoc.gzip;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.ztoc.gzip.GzipBuilder.readAll;
import static dev.jsoci.ztoc.gzip.GzipBuilder.sha256;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.ztoc.Span;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

class GzipCheckpointStreamTest {
  /**
   * A 519-byte gzip of a 10240-byte USTAR archive with three entries (archive size 7168), deflated
   * with flushes at uncompressed offsets 1024, 2560, 3072 and 6144 so that block ends fall inside
   * bytes. Its checkpoints, blob and span digests below come from the SOCI reference builder.
   */
  private static final byte[] LAYER = GzipBuilder.resource("three-entry-layer.tar.gz");

  private static final long LAYER_ARCHIVE_SIZE = 7168;

  private static GzipCheckpointStream drained(byte[] blob, long spanSize) throws IOException {
    GzipCheckpointStream stream =
        new GzipCheckpointStream(new ByteArrayInputStream(blob), spanSize, "test-layer");
    readAll(stream);
    return stream;
  }

  private static byte[] tarOfLayer() throws IOException {
    return new GZIPInputStream(new ByteArrayInputStream(LAYER)).readAllBytes();
  }

  private static byte[] expectedWindow(byte[] uncompressed, int out) {
    byte[] window = new byte[GzipCheckpoint.WINDOW_SIZE];
    int length = Math.min(out, window.length);
    System.arraycopy(uncompressed, out - length, window, window.length - length, length);
    return window;
  }

  @Test
  void layerResource_isTheKnownBlob() {
    assertThat(LAYER).hasLength(519);
    assertThat(sha256(LAYER, 0, LAYER.length))
        .isEqualTo("sha256:b4ceb60a56d630e7543007ffc06b3964eed496198b553640f943249f75b242be");
  }

  @Test
  void read_returnsConcatenatedTar() throws IOException {
    try (GzipCheckpointStream stream =
        new GzipCheckpointStream(new ByteArrayInputStream(LAYER), 1000, "l")) {
      byte[] tar = readAll(stream);

      assertThat(tar).isEqualTo(tarOfLayer());
      assertThat(sha256(tar, 0, tar.length))
          .isEqualTo("sha256:2a9af01e41649ccccb5ff955661bb60e6b152ca9bb5c74457a6174a17974dac5");
      assertThat(stream.uncompressedSize()).isEqualTo(10240);
      assertThat(stream.compressedSize()).isEqualTo(519);
    }
  }

  @Test
  void checkpoints_spanSize1000_matchReferenceBuilder() throws IOException {
    GzipCheckpointStream stream = drained(LAYER, 1000);

    assertThat(stream.checkpoints().toString())
        .isEqualTo("[(10,0,0), (126,1024,5), (152,2560,4), (492,6144,5)]");
    byte[] tar = tarOfLayer();
    for (GzipCheckpoint checkpoint : stream.checkpoints()) {
      assertThat(checkpoint.window())
          .isEqualTo(expectedWindow(tar, (int) checkpoint.uncompressedOffset()));
    }
  }

  @Test
  void checkpoints_spanSizeZero_matchReferenceBuilder() throws IOException {
    GzipCheckpointStream stream =
        GzipCheckpointStream.newAllowingZeroSpanSize(new ByteArrayInputStream(LAYER), 0, "l");
    readAll(stream);

    assertThat(stream.checkpoints().toString())
        .isEqualTo("[(10,0,0), (126,1024,5), (152,2560,4), (191,3072,7), (492,6144,5)]");
    assertThat(stream.toZinfo(LAYER_ARCHIVE_SIZE).toBytes()).hasLength(163937);
  }

  @Test
  void toZinfo_spanSize1000_writesReferenceBlob() throws IOException {
    byte[] blob = drained(LAYER, 1000).toZinfo(LAYER_ARCHIVE_SIZE).toBytes();

    assertThat(blob).hasLength(131152);
    assertThat(sha256(blob, 0, blob.length))
        .isEqualTo("sha256:6fb078cffa819a667e84bfd7fd26123d49bcf05bab6d25e6895a2cabffa7ad3f");
    HexFormat hex = HexFormat.of();
    assertThat(hex.formatHex(blob, 0, 12)).isEqualTo("04000000e803000000000000");
    String[] recordStarts = {
      "0a00000000000000" + "0000000000000000" + "00",
      "7e00000000000000" + "0004000000000000" + "05",
      "9800000000000000" + "000a000000000000" + "04",
      "ec01000000000000" + "0018000000000000" + "05",
    };
    for (int i = 0; i < 4; i++) {
      int record = 12 + i * 32785;
      assertThat(hex.formatHex(blob, record, record + 17)).isEqualTo(recordStarts[i]);
    }
  }

  @Test
  void spans_spanSize1000_matchReferenceRangesAndDigests() throws IOException {
    GzipCheckpointStream stream = drained(LAYER, 1000);
    GzipZinfo zinfo = stream.toZinfo(LAYER_ARCHIVE_SIZE);

    assertThat(zinfo.maxSpanId()).isEqualTo(3);
    assertThat(zinfo.span(0)).isEqualTo(new Span(0, 10, 126, 0, 1024));
    assertThat(zinfo.span(1)).isEqualTo(new Span(1, 125, 152, 1024, 2560));
    assertThat(zinfo.span(2)).isEqualTo(new Span(2, 151, 492, 2560, 6144));
    assertThat(zinfo.span(3)).isEqualTo(new Span(3, 491, 519, 6144, 7168));
    assertThat(stream.spanDigests())
        .containsExactly(
            "sha256:d619e815ee15c7319878f70f0158ba8c2ff8c068e71415ce5861d35f2d9ed6ac",
            "sha256:edb4b5d1e5873647e34ece435d2cd5766619312927215375e17a11cdbd92e72e",
            "sha256:11c66597e47dcc585861513fe5129c48a77f3cd15a441d99ab9413fd3243aa7f",
            "sha256:2bebe6bd575506b0d529f245d6599840ce7d3496223ba72cf4540a40389c637c")
        .inOrder();
  }

  @Test
  void decompress_layerSpans_returnTarBytes() throws IOException {
    GzipZinfo zinfo = drained(LAYER, 1000).toZinfo(LAYER_ARCHIVE_SIZE);
    byte[] tar = tarOfLayer();

    for (int id = 0; id <= zinfo.maxSpanId(); id++) {
      Span span = zinfo.span(id);
      byte[] data =
          Arrays.copyOfRange(LAYER, (int) span.compressedStart(), (int) span.compressedEnd());
      byte[] result =
          zinfo.decompress(data, id, span.uncompressedStart(), (int) span.uncompressedLength());
      assertThat(result)
          .isEqualTo(
              Arrays.copyOfRange(
                  tar, (int) span.uncompressedStart(), (int) span.uncompressedEnd()));
    }
  }

  @Test
  void constructor_zeroSpanSize_throws() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new GzipCheckpointStream(new ByteArrayInputStream(LAYER), 0, "l"));

    assertThat(e).hasMessageThat().isEqualTo("spanSize is 0, expected >= 1");
  }

  @Test
  void constructor_negativeSpanSize_throws() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new GzipCheckpointStream(new ByteArrayInputStream(LAYER), -4096, "l"));

    assertThat(e).hasMessageThat().isEqualTo("spanSize is -4096, expected >= 1");
  }

  @Test
  void skip_mixedWithReads_matchesFullRead() throws IOException {
    byte[] tar = tarOfLayer();
    try (GzipCheckpointStream stream =
        new GzipCheckpointStream(new ByteArrayInputStream(LAYER), 1000, "l")) {
      byte[] head = stream.readNBytes(100);
      long skipped = 0;
      while (skipped < 5000) {
        long n = stream.skip(5000 - skipped);
        assertThat(n).isGreaterThan(0L);
        skipped += n;
      }
      byte[] rest = readAll(stream);

      assertThat(head).isEqualTo(Arrays.copyOfRange(tar, 0, 100));
      assertThat(rest).isEqualTo(Arrays.copyOfRange(tar, 5100, tar.length));
      assertThat(stream.skip(10)).isEqualTo(0L);
      assertThat(stream.checkpoints()).isEqualTo(drained(LAYER, 1000).checkpoints());
      assertThat(stream.spanDigests()).isEqualTo(drained(LAYER, 1000).spanDigests());
    }
  }

  @Test
  void accessors_beforeEndOfStream_throw() throws IOException {
    try (GzipCheckpointStream stream =
        new GzipCheckpointStream(new ByteArrayInputStream(LAYER), 1000, "l")) {
      stream.read(new byte[100]);

      IllegalStateException e = assertThrows(IllegalStateException.class, stream::checkpoints);
      assertThat(e)
          .hasMessageThat()
          .isEqualTo("the blob is not fully read: read() has not returned -1");
      assertThrows(IllegalStateException.class, stream::spanDigests);
      assertThrows(IllegalStateException.class, stream::compressedSize);
      assertThrows(IllegalStateException.class, () -> stream.toZinfo(0));
    }
  }

  @Test
  void close_beforeEnd_closesSourceAndRejectsRead() throws IOException {
    boolean[] closed = {false};
    InputStream source =
        new ByteArrayInputStream(LAYER) {
          @Override
          public void close() {
            closed[0] = true;
          }
        };
    GzipCheckpointStream stream = new GzipCheckpointStream(source, 1000, "l");
    stream.read(new byte[10]);

    stream.close();
    stream.close();

    assertThat(closed[0]).isTrue();
    IOException e = assertThrows(IOException.class, () -> stream.read(new byte[10]));
    assertThat(e).hasMessageThat().isEqualTo("stream closed");
  }

  @Test
  void read_singleBytes_matchesBulkRead() throws IOException {
    try (GzipCheckpointStream stream =
        new GzipCheckpointStream(new ByteArrayInputStream(LAYER), 1000, "l")) {
      byte[] tar = tarOfLayer();
      for (int i = 0; i < tar.length; i++) {
        assertThat(stream.read()).isEqualTo(tar[i] & 0xff);
      }
      assertThat(stream.read()).isEqualTo(-1);
      assertThat(stream.read()).isEqualTo(-1);
      assertThat(stream.checkpoints()).hasSize(4);
    }
  }

  @Test
  void checkpoints_leadingEmptyBlock_noDuplicate() throws IOException {
    byte[] data = randomText(new Random(1), 20_000);
    GzipBuilder builder =
        new GzipBuilder()
            .startMember(6)
            .write(new byte[0], Deflater.SYNC_FLUSH)
            .write(data, Deflater.SYNC_FLUSH)
            .write(data, Deflater.NO_FLUSH)
            .finishMember();

    GzipCheckpointStream stream =
        GzipCheckpointStream.newAllowingZeroSpanSize(
            new ByteArrayInputStream(builder.blob()), 0, "l");
    readAll(stream);

    List<GzipCheckpoint> checkpoints = stream.checkpoints();
    assertThat(checkpoints.get(0).toString()).isEqualTo("(10,0,0)");
    assertThat(checkpoints.get(1).uncompressedOffset()).isEqualTo(20_000);
    assertThat(stream.toZinfo(40_000).span(0).compressedStart()).isEqualTo(10);
  }

  @Test
  void checkpoints_twoMembers_secondAfterSecondHeader() throws IOException {
    byte[] tar = tarOfLayer();
    GzipBuilder builder =
        new GzipBuilder()
            .startMember(9)
            .write(Arrays.copyOfRange(tar, 0, 5000), Deflater.NO_FLUSH)
            .finishMember();
    int firstMemberLength = builder.blobLength();
    builder
        .startMember(9)
        .write(Arrays.copyOfRange(tar, 5000, tar.length), Deflater.NO_FLUSH)
        .finishMember();
    byte[] blob = builder.blob();

    GzipCheckpointStream stream = drained(blob, 100);
    GzipZinfo zinfo = stream.toZinfo(LAYER_ARCHIVE_SIZE);

    assertThat(readAll(new GzipCheckpointStream(new ByteArrayInputStream(blob), 100, "l")))
        .isEqualTo(tar);
    assertThat(stream.checkpoints().toString())
        .isEqualTo("[(10,0,0), (" + (firstMemberLength + 10) + ",5000,0)]");
    Span span0 = zinfo.span(0);
    assertThat(span0.compressedEnd()).isEqualTo(firstMemberLength + 10);
    byte[] span0Data = Arrays.copyOfRange(blob, 10, firstMemberLength + 10);
    assertThat(zinfo.decompress(span0Data, 0, 0, 5000)).isEqualTo(Arrays.copyOfRange(tar, 0, 5000));
    assertThat(stream.spanDigests().get(0)).isEqualTo(sha256(blob, 10, firstMemberLength + 10));
    assertThat(stream.spanDigests().get(1))
        .isEqualTo(sha256(blob, firstMemberLength + 10, blob.length));
  }

  @Test
  void decompress_rangeAcrossMembers_returnsBothMembersBytes() throws IOException {
    byte[] tar = tarOfLayer();
    byte[] blob =
        new GzipBuilder()
            .startMember(9)
            .write(Arrays.copyOfRange(tar, 0, 5000), Deflater.NO_FLUSH)
            .finishMember()
            .startMember(9, GzipBuilder.header(GzipBuilder.FHCRC, new byte[3], "b", "c"))
            .write(Arrays.copyOfRange(tar, 5000, tar.length), Deflater.NO_FLUSH)
            .finishMember()
            .blob();
    GzipZinfo zinfo = drained(blob, 100_000).toZinfo(tar.length);

    assertThat(zinfo.maxSpanId()).isEqualTo(0);
    byte[] data = Arrays.copyOfRange(blob, 10, blob.length);
    assertThat(zinfo.decompress(data, 0, 4000, 2000))
        .isEqualTo(Arrays.copyOfRange(tar, 4000, 6000));
    assertThat(zinfo.decompress(data, 0, 0, tar.length)).isEqualTo(tar);
  }

  @Test
  void checkpoints_allHeaderFields_firstAfterHeader() throws IOException {
    byte[] extra = new byte[2000];
    new Random(7).nextBytes(extra);
    byte[] header =
        GzipBuilder.header(GzipBuilder.FHCRC | GzipBuilder.FTEXT, extra, "layer.tar", "a comment");
    byte[] data = randomText(new Random(2), 50_000);
    GzipBuilder builder = new GzipBuilder().startMember(6, header);
    for (int i = 0; i < 10; i++) {
      int flush = i < 9 ? Deflater.FULL_FLUSH : Deflater.NO_FLUSH;
      builder.write(Arrays.copyOfRange(data, i * 5000, (i + 1) * 5000), flush);
    }
    byte[] blob = builder.finishMember().blob();

    GzipCheckpointStream stream = drained(blob, 1024);
    GzipZinfo zinfo = stream.toZinfo(data.length);

    assertThat(stream.checkpoints().get(0).compressedOffset()).isEqualTo(header.length);
    assertThat(stream.checkpoints().get(0).uncompressedOffset()).isEqualTo(0);
    assertThat(zinfo.maxSpanId()).isEqualTo(9);
    for (int id = 0; id <= zinfo.maxSpanId(); id++) {
      Span span = zinfo.span(id);
      byte[] spanData =
          Arrays.copyOfRange(blob, (int) span.compressedStart(), (int) span.compressedEnd());
      assertThat(zinfo.decompress(spanData, id, span.uncompressedStart(), 5000))
          .isEqualTo(Arrays.copyOfRange(data, id * 5000, (id + 1) * 5000));
    }
  }

  @Test
  void checkpoints_storedBlocks_byteAligned() throws IOException {
    byte[] data = new byte[300_000];
    new Random(3).nextBytes(data);
    GzipBuilder builder = new GzipBuilder().startMember(Deflater.NO_COMPRESSION);
    builder.write(data, Deflater.NO_FLUSH).finishMember();
    byte[] blob = builder.blob();

    GzipCheckpointStream stream = drained(blob, 1024);

    // Stored blocks contain at most 65535 bytes (RFC 1951 section 3.2.4), so each ends a span.
    assertThat(stream.checkpoints().size()).isAtLeast(5);
    for (GzipCheckpoint checkpoint : stream.checkpoints()) {
      assertThat(checkpoint.bits()).isEqualTo(0);
    }
    GzipZinfo zinfo = stream.toZinfo(data.length);
    Span last = zinfo.span(zinfo.maxSpanId());
    byte[] lastData = Arrays.copyOfRange(blob, (int) last.compressedStart(), blob.length);
    assertThat(
            zinfo.decompress(
                lastData,
                zinfo.maxSpanId(),
                last.uncompressedStart(),
                (int) last.uncompressedLength()))
        .isEqualTo(Arrays.copyOfRange(data, (int) last.uncompressedStart(), data.length));
  }

  @Test
  void read_sourceReturningSmallChunks_sameCheckpoints() throws IOException {
    InputStream trickle =
        new ByteArrayInputStream(LAYER) {
          @Override
          public synchronized int read(byte[] buffer, int offset, int length) {
            return super.read(buffer, offset, Math.min(length, 3));
          }
        };
    GzipCheckpointStream stream = new GzipCheckpointStream(trickle, 1000, "l");
    readAll(stream);

    assertThat(stream.checkpoints()).isEqualTo(drained(LAYER, 1000).checkpoints());
    assertThat(stream.spanDigests()).isEqualTo(drained(LAYER, 1000).spanDigests());
  }

  static byte[] randomText(Random random, int length) {
    String[] words = {"layer", "span", "tar", "gzip", "checkpoint", "window", "\n", " ", "0x1f8b"};
    StringBuilder text = new StringBuilder();
    while (text.length() < length) {
      text.append(words[random.nextInt(words.length)]).append(' ');
    }
    return text.substring(0, length).getBytes(StandardCharsets.US_ASCII);
  }

  static List<Integer> offsets(List<GzipCheckpoint> checkpoints) {
    List<Integer> result = new ArrayList<>();
    for (GzipCheckpoint checkpoint : checkpoints) {
      result.add((int) checkpoint.uncompressedOffset());
    }
    return result;
  }
}
