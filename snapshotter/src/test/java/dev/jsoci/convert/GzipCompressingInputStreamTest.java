package dev.jsoci.convert;

import static com.google.common.truth.Truth.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

class GzipCompressingInputStreamTest {
  private static byte[] compress(byte[] content) throws IOException {
    try (InputStream gzip = new GzipCompressingInputStream(new ByteArrayInputStream(content))) {
      return gzip.readAllBytes();
    }
  }

  @Test
  void read_producesGzipOfInput() throws IOException {
    byte[] content = TestImages.randomBytes(1_000_000, 7);

    byte[] gzip = compress(content);

    assertThat(new GZIPInputStream(new ByteArrayInputStream(gzip)).readAllBytes())
        .isEqualTo(content);
  }

  @Test
  void read_emptyInput_givesValidEmptyMember() throws IOException {
    byte[] gzip = compress(new byte[0]);

    assertThat(new GZIPInputStream(new ByteArrayInputStream(gzip)).readAllBytes()).isEmpty();
  }

  @Test
  void read_headerHasNoNameAndZeroTime() throws IOException {
    byte[] gzip = compress("text".getBytes());

    assertThat(java.util.Arrays.copyOf(gzip, 10))
        .isEqualTo(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff});
  }

  @Test
  void read_sameInput_sameBytes() throws IOException {
    byte[] content = TestImages.tar(TestImages.files("a", TestImages.randomBytes(300_000, 8)));

    assertThat(compress(content)).isEqualTo(compress(content));
  }

  @Test
  void read_oneByteAtATime_givesSameBytes() throws IOException {
    byte[] content = TestImages.randomBytes(50_000, 9);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (InputStream gzip = new GzipCompressingInputStream(new ByteArrayInputStream(content))) {
      for (int b = gzip.read(); b != -1; b = gzip.read()) {
        out.write(b);
      }
    }

    assertThat(out.toByteArray()).isEqualTo(compress(content));
  }
}
