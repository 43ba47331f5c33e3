package dev.jsoci.ztoc.zstd;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Decodes streams made by the {@code zstd} command line tool. */
class ZstdDecompressingInputStreamTest {
  private static final String NAME = "layer sha256:" + "ab".repeat(32);

  @TempDir Path directory;

  @Test
  void singleFrameLargerThanBuffers() throws Exception {
    // 3 MiB is a multiple of the 128 KiB output buffer, so the frame ends on a full buffer.
    byte[] data = sample(new Random(1), 3 << 20);

    assertThat(decompress(zstd(data, "-3"))).isEqualTo(data);
  }

  @Test
  void concatenatedFrames() throws Exception {
    byte[] first = sample(new Random(2), 5 * 128 * 1024);
    byte[] second = sample(new Random(3), 300_000);

    byte[] stream = concat(zstd(first, "-1"), zstd(second, "-19"));

    assertThat(decompress(stream)).isEqualTo(concat(first, second));
  }

  @Test
  void skippableFramesAreIgnored() throws Exception {
    byte[] first = sample(new Random(4), 200_000);
    byte[] second = sample(new Random(5), 100_000);

    byte[] stream =
        concat(
            skippableFrame(0, 16),
            zstd(first, "-3"),
            skippableFrame(7, 300_000),
            zstd(second, "-3"),
            skippableFrame(15, 0));

    assertThat(decompress(stream)).isEqualTo(concat(first, second));
  }

  @Test
  void emptyContentFrame() throws Exception {
    assertThat(decompress(zstd(new byte[0], "-3"))).isEmpty();
  }

  @Test
  void singleByteReads() throws Exception {
    byte[] data = sample(new Random(6), 50_000);
    ByteArrayOutputStream out = new ByteArrayOutputStream();

    try (InputStream in = open(zstd(data, "-3"))) {
      int b;
      while ((b = in.read()) != -1) {
        out.write(b);
      }
    }

    assertThat(out.toByteArray()).isEqualTo(data);
  }

  @Test
  void corruptFrameNamesStreamAndOffset() throws Exception {
    byte[] stream = zstd(sample(new Random(7), 1 << 20), "-3");
    for (int i = stream.length / 2; i < stream.length / 2 + 64; i++) {
      stream[i] ^= (byte) 0x5a;
    }

    ZstdFormatException e = assertThrows(ZstdFormatException.class, () -> decompress(stream));

    assertThat(e).hasMessageThat().startsWith(NAME + ": invalid zstd data at or after compressed byte ");
  }

  @Test
  void corruptSecondFrameAfterGoodFirst() throws Exception {
    byte[] first = zstd(sample(new Random(8), 100_000), "-3");
    byte[] second = zstd(sample(new Random(9), 100_000), "-3");
    // The content checksum at the end of the frame catches a flipped byte in its last block.
    second[second.length - 10] ^= 1;

    ZstdFormatException e =
        assertThrows(ZstdFormatException.class, () -> decompress(concat(first, second)));

    assertThat(e).hasMessageThat().contains(NAME);
  }

  @Test
  void truncatedFrame() throws Exception {
    byte[] stream = zstd(sample(new Random(10), 200_000), "-3");
    byte[] truncated = Arrays.copyOf(stream, stream.length - 100);

    ZstdFormatException e = assertThrows(ZstdFormatException.class, () -> decompress(truncated));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            NAME
                + ": truncated zstd frame: the data ends at compressed byte "
                + truncated.length);
  }

  @Test
  void emptyInput() {
    ZstdFormatException e =
        assertThrows(ZstdFormatException.class, () -> decompress(new byte[0]));

    assertThat(e).hasMessageThat().isEqualTo(NAME + ": empty, expected a zstd frame");
  }

  @Test
  void gzipInputIsRejected() throws Exception {
    ByteArrayOutputStream gzip = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gzip)) {
      out.write(sample(new Random(11), 1000));
    }

    ZstdFormatException e =
        assertThrows(ZstdFormatException.class, () -> decompress(gzip.toByteArray()));

    assertThat(e).hasMessageThat().startsWith(NAME + ": invalid zstd data at or after compressed byte 0");
  }

  @Test
  void bytesAfterLastFrameAreRejected() throws Exception {
    byte[] data = sample(new Random(12), 10_000);
    byte[] stream = concat(zstd(data, "-3"), "trailing text".getBytes(StandardCharsets.US_ASCII));

    ZstdFormatException e = assertThrows(ZstdFormatException.class, () -> decompress(stream));

    assertThat(e).hasMessageThat().contains(NAME + ": invalid zstd data");
  }

  @Test
  void readAfterCloseFails() throws Exception {
    InputStream in = open(zstd(sample(new Random(13), 1000), "-3"));
    in.close();
    in.close();

    IOException e = assertThrows(IOException.class, in::read);

    assertThat(e).hasMessageThat().isEqualTo(NAME + ": zstd stream already closed");
  }

  @Test
  void libraryVersionIsReported() throws Exception {
    assertThat(ZstdDecompressingInputStream.libraryVersion()).matches("1\\.\\d+\\.\\d+");
  }

  private static InputStream open(byte[] stream) throws IOException {
    return new ZstdDecompressingInputStream(new ByteArrayInputStream(stream), NAME);
  }

  private static byte[] decompress(byte[] stream) throws IOException {
    try (InputStream in = open(stream)) {
      return in.readAllBytes();
    }
  }

  /** Compresses {@code data} with the {@code zstd} command and the given level option. */
  private byte[] zstd(byte[] data, String level) throws IOException, InterruptedException {
    Path input = Files.createTempFile(directory, "data", ".bin");
    Path output = directory.resolve(input.getFileName() + ".zst");
    Files.write(input, data);
    Process process =
        new ProcessBuilder("zstd", "-q", level, "-o", output.toString(), input.toString())
            .redirectErrorStream(true)
            .start();
    String messages = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).isEqualTo(0);
    assertThat(messages).isEmpty();
    return Files.readAllBytes(output);
  }

  /** Returns a skippable frame with magic number {@code 0x184D2A50 + variant}. */
  private static byte[] skippableFrame(int variant, int contentBytes) {
    ByteBuffer frame = ByteBuffer.allocate(8 + contentBytes).order(ByteOrder.LITTLE_ENDIAN);
    frame.putInt(0x184D2A50 + variant);
    frame.putInt(contentBytes);
    byte[] content = new byte[contentBytes];
    new Random(variant).nextBytes(content);
    frame.put(content);
    return frame.array();
  }

  /** Returns compressible bytes: words from a small vocabulary with random bytes between them. */
  private static byte[] sample(Random random, int length) {
    String[] words = {"layer ", "zstd ", "frame ", "block ", "tar ", "usr/lib/ ", "\n"};
    ByteArrayOutputStream out = new ByteArrayOutputStream(length);
    while (out.size() < length) {
      if (random.nextInt(8) == 0) {
        out.write(random.nextInt(256));
      } else {
        out.writeBytes(words[random.nextInt(words.length)].getBytes(StandardCharsets.US_ASCII));
      }
    }
    return Arrays.copyOf(out.toByteArray(), length);
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }
}
