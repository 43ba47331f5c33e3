package dev.jsoci.ztoc;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class TarZinfoTest {
  /** The blob soci-snapshotter writes for a 10240-byte tar at span size 4096. */
  private static final String BLOB_4096_10240 =
      "140000000000000000000a001c0018000c0004000a000000002800000000000000100000000000000000000002000000";

  @Test
  void toBytes_matchesReferenceBlob() {
    TarZinfo zinfo = TarZinfo.of(4096, 10240, 7168);

    assertThat(HexFormat.of().formatHex(zinfo.toBytes())).isEqualTo(BLOB_4096_10240);
  }

  @Test
  void parse_referenceBlob_givesSpansWithNegativeLastSpan() throws Exception {
    TarZinfo zinfo = TarZinfo.parse(HexFormat.of().parseHex(BLOB_4096_10240), 10240, 7168);

    assertThat(zinfo.maxSpanId()).isEqualTo(2);
    assertThat(zinfo.spanSize()).isEqualTo(4096);
    assertThat(zinfo.span(0)).isEqualTo(new Span(0, 0, 4096, 0, 4096));
    assertThat(zinfo.span(1)).isEqualTo(new Span(1, 4096, 8192, 4096, 8192));
    assertThat(zinfo.span(2)).isEqualTo(new Span(2, 8192, 10240, 8192, 7168));
    assertThat(zinfo.span(2).uncompressedLength()).isEqualTo(0);
    assertThat(zinfo.spanOf(0)).isEqualTo(0);
    assertThat(zinfo.spanOf(4095)).isEqualTo(0);
    assertThat(zinfo.spanOf(4096)).isEqualTo(1);
    assertThat(zinfo.spanOf(7167)).isEqualTo(1);
  }

  @Test
  void of_exactMultiple_hasNoEmptyTrailingSpan() {
    TarZinfo zinfo = TarZinfo.of(4096, 8192, 8192);

    assertThat(zinfo.maxSpanId()).isEqualTo(1);
    assertThat(zinfo.span(1)).isEqualTo(new Span(1, 4096, 8192, 4096, 8192));
  }

  @Test
  void of_emptyBlob_hasNoSpans() {
    assertThat(TarZinfo.of(4096, 0, 0).maxSpanId()).isEqualTo(-1);
  }

  @Test
  void of_zeroSpanSize_isRejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> TarZinfo.of(0, 10, 10));

    assertThat(e).hasMessageThat().isEqualTo("spanSize must be positive: 0");
  }

  @Test
  void parse_sizeMismatch_isRejected() {
    byte[] blob = HexFormat.of().parseHex(BLOB_4096_10240);

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> TarZinfo.parse(blob, 10000, 7168));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("tar zinfo size 10240 differs from compressed archive size 10000");
  }

  @Test
  void decompress_slicesTheGivenBytes() throws Exception {
    TarZinfo zinfo = TarZinfo.of(4, 12, 12);
    byte[] fromSpan1 = {4, 5, 6, 7, 8, 9, 10, 11};

    assertThat(zinfo.decompress(fromSpan1, 1, 6, 4)).isEqualTo(new byte[] {6, 7, 8, 9});
    assertThat(zinfo.decompress(fromSpan1, 1, 6, 0)).isEqualTo(new byte[0]);
    assertThrows(ZtocFormatException.class, () -> zinfo.decompress(fromSpan1, 1, 10, 4));
  }
}
