package dev.jsoci.ztoc.gzip;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.ztoc.gzip.GzipBuilder.readAll;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.ztoc.LayerFormatException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.Test;

class GzipCheckpointStreamErrorTest {
  private static final byte[] DATA = GzipCheckpointStreamTest.randomText(new Random(11), 200_000);

  /** A single member in several blocks. */
  private static final byte[] BLOB =
      new GzipBuilder()
          .startMember(6)
          .write(Arrays.copyOfRange(DATA, 0, 70_000), Deflater.SYNC_FLUSH)
          .write(Arrays.copyOfRange(DATA, 70_000, DATA.length), Deflater.NO_FLUSH)
          .finishMember()
          .blob();

  private static LayerFormatException failure(byte[] blob) {
    return assertThrows(
        LayerFormatException.class,
        () -> {
          try (GzipCheckpointStream stream =
              new GzipCheckpointStream(new ByteArrayInputStream(blob), 4096, "test-layer")) {
            readAll(stream);
          }
        });
  }

  private static byte[] concat(byte[] first, byte[] second) {
    byte[] result = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, result, first.length, second.length);
    return result;
  }

  @Test
  void read_emptyInput_throws() {
    LayerFormatException e = failure(new byte[0]);

    assertThat(e.offset()).isEqualTo(0);
    assertThat(e.layer()).isEqualTo("test-layer");
    assertThat(e)
        .hasMessageThat()
        .isEqualTo("layer test-layer at byte 0: empty blob, expected a gzip stream");
  }

  @Test
  void read_notGzip_throws() {
    LayerFormatException e = failure(new byte[] {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0});

    assertThat(e.offset()).isEqualTo(0);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer test-layer at byte 0: not a gzip stream: found 50 4b, expected magic 1f 8b");
  }

  @Test
  void read_singleNonGzipByte_throws() {
    LayerFormatException e = failure(new byte[] {'x'});

    assertThat(e.offset()).isEqualTo(0);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo("layer test-layer at byte 0: not a gzip stream: found 78, expected magic 1f 8b");
  }

  @Test
  void read_zlibWrapped_throws() throws Exception {
    ByteArrayOutputStream zlib = new ByteArrayOutputStream();
    try (DeflaterOutputStream out = new DeflaterOutputStream(zlib)) {
      out.write(DATA);
    }

    LayerFormatException e = failure(zlib.toByteArray());

    assertThat(e.offset()).isEqualTo(0);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer test-layer at byte 0: zlib stream (header 78 9c), expected gzip magic 1f 8b");
  }

  @Test
  void read_truncatedInMagic_throws() {
    LayerFormatException e = failure(Arrays.copyOf(BLOB, 1));

    assertThat(e.offset()).isEqualTo(1);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo("layer test-layer at byte 1: unexpected end of input in gzip magic bytes");
  }

  @Test
  void read_truncatedInHeader_throws() {
    for (int length : new int[] {2, 5, 9}) {
      LayerFormatException e = failure(Arrays.copyOf(BLOB, length));

      assertThat(e.offset()).isEqualTo(length);
      assertThat(e)
          .hasMessageThat()
          .isEqualTo(
              "layer test-layer at byte "
                  + length
                  + ": unexpected end of input in the gzip header of the member at byte 0");
    }
  }

  @Test
  void read_truncatedInFileName_throws() {
    byte[] header = GzipBuilder.header(0, null, "a-long-file-name", null);
    byte[] blob =
        new GzipBuilder()
            .startMember(6, header)
            .write(DATA, Deflater.NO_FLUSH)
            .finishMember()
            .blob();

    LayerFormatException e = failure(Arrays.copyOf(blob, 14));

    assertThat(e.offset()).isEqualTo(14);
    assertThat(e)
        .hasMessageThat()
        .endsWith("unexpected end of input in the gzip header of the member at byte 0");
  }

  @Test
  void read_truncatedInDeflateData_throws() {
    for (int length : new int[] {10, 11, 500, BLOB.length / 2, BLOB.length - 9}) {
      LayerFormatException e = failure(Arrays.copyOf(BLOB, length));

      assertThat(e.offset()).isEqualTo(length);
      assertThat(e)
          .hasMessageThat()
          .isEqualTo(
              "layer test-layer at byte "
                  + length
                  + ": unexpected end of input in the deflate data of the member at byte 0");
    }
  }

  @Test
  void read_truncatedInTrailer_throws() {
    for (int length : new int[] {BLOB.length - 8, BLOB.length - 5, BLOB.length - 1}) {
      LayerFormatException e = failure(Arrays.copyOf(BLOB, length));

      assertThat(e.offset()).isEqualTo(length);
      assertThat(e)
          .hasMessageThat()
          .isEqualTo(
              "layer test-layer at byte "
                  + length
                  + ": unexpected end of input in the gzip trailer of the member at byte 0");
    }
  }

  @Test
  void read_truncatedSecondMember_namesItsStart() {
    byte[] blob = concat(BLOB, Arrays.copyOf(BLOB, 300));

    LayerFormatException e = failure(blob);

    assertThat(e.offset()).isEqualTo(BLOB.length + 300);
    assertThat(e).hasMessageThat().endsWith("of the member at byte " + BLOB.length);
  }

  @Test
  void read_flippedCrc_throws() {
    byte[] blob = BLOB.clone();
    blob[blob.length - 8] ^= 0x01;
    CRC32 crc = new CRC32();
    crc.update(DATA);

    LayerFormatException e = failure(blob);

    assertThat(e.offset()).isEqualTo(blob.length - 8);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            String.format(
                "layer test-layer at byte %d: crc32 mismatch in gzip trailer: stored %08x,"
                    + " computed %08x",
                blob.length - 8, crc.getValue() ^ 1, crc.getValue()));
  }

  @Test
  void read_badIsize_throws() {
    byte[] blob = BLOB.clone();
    blob[blob.length - 4] ^= 0x01;

    LayerFormatException e = failure(blob);

    assertThat(e.offset()).isEqualTo(blob.length - 4);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer test-layer at byte "
                + (blob.length - 4)
                + ": isize mismatch in gzip trailer: stored "
                + (DATA.length ^ 1)
                + ", expected "
                + DATA.length);
  }

  @Test
  void read_flippedCrcInSecondMember_throws() {
    byte[] second = BLOB.clone();
    second[second.length - 5] ^= (byte) 0x80;

    LayerFormatException e = failure(concat(BLOB, second));

    assertThat(e.offset()).isEqualTo(2L * BLOB.length - 8);
    assertThat(e).hasMessageThat().contains("crc32 mismatch in gzip trailer");
  }

  @Test
  void read_trailingGarbage_throws() {
    LayerFormatException e = failure(concat(BLOB, "garbage".getBytes()));

    assertThat(e.offset()).isEqualTo(BLOB.length);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer test-layer at byte "
                + BLOB.length
                + ": trailing data after the last gzip member: found 67 61, expected 1f 8b");
  }

  @Test
  void read_trailingZeros_throws() {
    LayerFormatException e = failure(concat(BLOB, new byte[512]));

    assertThat(e.offset()).isEqualTo(BLOB.length);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer test-layer at byte "
                + BLOB.length
                + ": trailing data after the last gzip member: found 00 00, expected 1f 8b");
  }

  @Test
  void read_singleTrailingZero_throws() {
    LayerFormatException e = failure(concat(BLOB, new byte[1]));

    assertThat(e.offset()).isEqualTo(BLOB.length);
    assertThat(e)
        .hasMessageThat()
        .endsWith(": trailing data after the last gzip member: found 00, expected 1f 8b");
  }

  @Test
  void read_invalidBlockType_throws() {
    byte[] blob = BLOB.clone();
    // The first deflate byte carries BFINAL and BTYPE in its low 3 bits; BTYPE 11 is reserved.
    blob[10] |= 0x06;

    LayerFormatException e = failure(blob);

    assertThat(e.offset()).isEqualTo(11);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo("layer test-layer at byte 11: corrupt deflate data: invalid block type");
  }

  @Test
  void read_unknownMethod_throws() {
    byte[] blob = BLOB.clone();
    blob[2] = 7;

    LayerFormatException e = failure(blob);

    assertThat(e.offset()).isEqualTo(2);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer test-layer at byte 2: unknown compression method 7 in gzip header, expected 8"
                + " (deflate)");
  }

  @Test
  void read_reservedFlags_throws() {
    byte[] blob = BLOB.clone();
    blob[3] = 0x20;

    LayerFormatException e = failure(blob);

    assertThat(e.offset()).isEqualTo(3);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo("layer test-layer at byte 3: reserved flag bits set in gzip header: flags 20");
  }

  @Test
  void read_headerCrcMismatch_throws() {
    byte[] header = GzipBuilder.header(GzipBuilder.FHCRC, null, "name", null);
    int computed = (header[header.length - 2] & 0xff) | (header[header.length - 1] & 0xff) << 8;
    header[header.length - 1] ^= 0x10;
    byte[] blob =
        new GzipBuilder()
            .startMember(6, header)
            .write(DATA, Deflater.NO_FLUSH)
            .finishMember()
            .blob();

    LayerFormatException e = failure(blob);

    assertThat(e.offset()).isEqualTo(header.length - 2);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer test-layer at byte "
                + (header.length - 2)
                + String.format(
                    ": crc16 mismatch in gzip header: stored %04x, computed %04x",
                    computed ^ 0x1000, computed));
  }

  @Test
  void read_afterFailure_throwsSameFailure() throws Exception {
    GzipCheckpointStream stream =
        new GzipCheckpointStream(new ByteArrayInputStream(new byte[3]), 4096, "test-layer");
    LayerFormatException first = assertThrows(LayerFormatException.class, stream::read);

    LayerFormatException second = assertThrows(LayerFormatException.class, stream::read);

    assertThat(second).isSameInstanceAs(first);
    stream.close();
  }
}
