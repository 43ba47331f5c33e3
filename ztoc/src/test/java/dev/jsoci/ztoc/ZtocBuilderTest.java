package dev.jsoci.ztoc;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ZtocBuilderTest {
  private static final String REFERENCE_TOOL = "AWS SOCI CLI v0.2";

  @TempDir Path temp;

  private static byte[] referenceLayer() throws IOException {
    try (InputStream in =
        ZtocBuilderTest.class.getResourceAsStream("gzip/three-entry-layer.tar.gz")) {
      return in.readAllBytes();
    }
  }

  private static Ztoc build(byte[] blob, long spanSize) throws IOException {
    return new ZtocBuilder(spanSize, REFERENCE_TOOL).build(new ByteArrayInputStream(blob), "test");
  }

  /** The 519-byte gzip layer at span size 1000 gives the zTOC that soci builds, byte for byte. */
  @Test
  void build_referenceGzipLayer_matchesSociDigest() throws IOException {
    byte[] bytes = ZtocCodec.encode(build(referenceLayer(), 1000));

    assertThat(bytes.length).isEqualTo(132176);
    assertThat(ZtocCodecTest.sha256(bytes))
        .isEqualTo("sha256:6b95b2e40dd274347cd9c69fc52e790bf02549d16bff9f41528363b7909c9fac");
  }

  /** The same layer's 10240-byte tar, indexed as an uncompressed layer at span size 4096. */
  @Test
  void build_referenceTarLayer_matchesDerivedDigest() throws IOException {
    byte[] tar = new GZIPInputStream(new ByteArrayInputStream(referenceLayer())).readAllBytes();

    Ztoc ztoc = build(tar, 4096);
    byte[] bytes = ZtocCodec.encode(ztoc);

    assertThat(ztoc.compressionAlgorithm()).isEqualTo(CompressionAlgorithm.UNCOMPRESSED);
    assertThat(ztoc.compressedArchiveSize()).isEqualTo(10240);
    assertThat(ztoc.uncompressedArchiveSize()).isEqualTo(7168);
    assertThat(ztoc.spanDigests())
        .containsExactly(
            "sha256:cfb5daaa8d9aa1f11e99d01cc6bb1633f2de33b1fec32216a6f80f48bce13726",
            "sha256:9c1e8ed3227e9298ea15d63cf8a9a694ae3b70c549a34c4f6f424074a4271b81",
            "sha256:e5a00aa9991ac8a5ee3109844d84a55583bd20572ad3ffcd42792f3c36b183ad")
        .inOrder();
    assertThat(bytes.length).isEqualTo(992);
    assertThat(ZtocCodecTest.sha256(bytes))
        .isEqualTo("sha256:0bd13ec08c6cbdd4a4c1d8cc6b451bbf1845fd05f7629f1cf7c9370147119a30");
  }

  @Test
  void build_emptyBlob_isRejectedAtOffsetZero() {
    LayerFormatException e =
        assertThrows(LayerFormatException.class, () -> build(new byte[0], 4096));

    assertThat(e).hasMessageThat().isEqualTo("layer test at byte 0: empty blob, not a gzip or tar layer");
    assertThat(e.offset()).isEqualTo(0);
  }

  @Test
  void build_textFile_isNotALayer() {
    byte[] text = "hello, this is not a tar\n".repeat(40).getBytes();

    LayerFormatException e = assertThrows(LayerFormatException.class, () -> build(text, 4096));

    assertThat(e).hasMessageThat().isEqualTo("layer test at byte 0: not a gzip or tar layer");
  }

  @Test
  void build_truncatedGzip_namesTheOffset() throws IOException {
    byte[] layer = referenceLayer();
    byte[] truncated = Arrays.copyOf(layer, 300);

    LayerFormatException e =
        assertThrows(LayerFormatException.class, () -> build(truncated, 1000));

    assertThat(e.layer()).isEqualTo("test");
    assertThat(e.offset()).isAtMost(300L);
    assertThat(e.offset()).isAtLeast(0L);
  }

  @Test
  void build_gzipOfText_isNotATar() throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write("plain text, not a tar archive\n".repeat(100).getBytes());
    }

    assertThrows(LayerFormatException.class, () -> build(out.toByteArray(), 4096));
  }

  @Test
  void build_zeroSpanSize_isRejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new ZtocBuilder(0, "x"));

    assertThat(e).hasMessageThat().isEqualTo("spanSize must be positive: 0");
  }

  /**
   * Random trees packed by GNU tar in every format it writes, compressed in several ways, give
   * back every regular file byte for byte through the zTOC, for several span sizes.
   */
  @Test
  void build_randomTrees_everyFileExtractsExactly() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/tar")), "GNU tar is not installed");
    Random random = new Random(7);
    int round = 0;
    for (String format : List.of("gnu", "posix", "ustar")) {
      Path tree = temp.resolve("tree-" + format);
      List<Path> files = writeRandomTree(tree, random, format.equals("ustar"));
      byte[] tar = gnuTar(tree, format);
      for (long spanSize : new long[] {1024, 65536, 1 << 20}) {
        for (byte[] blob : List.of(tar, gzip(tar, 1, false), gzip(tar, 9, true), twoMembers(tar))) {
          round++;
          Ztoc ztoc = build(blob, spanSize);
          assertEveryFileExtracts(ztoc, blob, tree, files, "round " + round + " " + format);
        }
      }
    }
  }

  private static List<Path> writeRandomTree(Path root, Random random, boolean shortNames)
      throws IOException {
    List<Path> files = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String directory = shortNames ? "d" + (i % 4) : "directory-" + "x".repeat(60) + "/" + (i % 4);
      Path file = root.resolve(directory).resolve("file-" + i + ".bin");
      Files.createDirectories(file.getParent());
      int size =
          switch (i % 5) {
            case 0 -> 0;
            case 1 -> random.nextInt(100);
            case 2 -> random.nextInt(5000);
            case 3 -> 100_000 + random.nextInt(200_000);
            default -> random.nextInt(40_000);
          };
      byte[] data = new byte[size];
      if (i % 2 == 0) {
        random.nextBytes(data);
      } else {
        for (int j = 0; j < size; j++) {
          data[j] = (byte) ("abcdefgh".charAt(random.nextInt(8)));
        }
      }
      Files.write(file, data);
      files.add(root.relativize(file));
    }
    return files;
  }

  private byte[] gnuTar(Path tree, String format) throws IOException, InterruptedException {
    Path out = temp.resolve("layer-" + format + ".tar");
    Process process =
        new ProcessBuilder(
                "tar", "--format=" + format, "--sort=name", "-C", tree.toString(), "-cf",
                out.toString(), ".")
            .redirectErrorStream(true)
            .start();
    String output = new String(process.getInputStream().readAllBytes());
    assertThat(process.waitFor()).isEqualTo(0);
    assertThat(output).isEmpty();
    return Files.readAllBytes(out);
  }

  private static byte[] gzip(byte[] data, int level, boolean flushOften) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip =
        new GZIPOutputStream(out, 8192, flushOften) {
          {
            def.setLevel(level);
          }
        }) {
      int chunk = flushOften ? 3000 : data.length;
      for (int i = 0; i < data.length; i += chunk) {
        gzip.write(data, i, Math.min(chunk, data.length - i));
        if (flushOften) {
          gzip.flush();
        }
      }
    }
    return out.toByteArray();
  }

  private static byte[] twoMembers(byte[] data) throws IOException {
    int half = data.length / 2;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(gzip(Arrays.copyOfRange(data, 0, half), Deflater.DEFAULT_COMPRESSION, false));
    out.write(gzip(Arrays.copyOfRange(data, half, data.length), 6, false));
    return out.toByteArray();
  }

  private static void assertEveryFileExtracts(
      Ztoc ztoc, byte[] blob, Path tree, List<Path> files, String context) throws IOException {
    byte[] encoded = ZtocCodec.encode(ztoc);
    Ztoc decoded = ZtocCodec.decode(encoded, context);
    Zinfo zinfo = Zinfos.of(decoded, context);
    TocIndex index = TocIndex.of(decoded, context);
    SpanExtractor extractor = new SpanExtractor(zinfo, decoded.spanDigests(), context);
    for (Path file : files) {
      TocEntry entry = index.resolve(ByteString.utf8(file.toString()));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      extractor.extract(
          (offset, length) -> Arrays.copyOfRange(blob, (int) offset, (int) offset + length),
          entry.uncompressedOffset(),
          entry.uncompressedSize(),
          out);
      assertWithMessage(context + " " + file)
          .that(out.toByteArray())
          .isEqualTo(Files.readAllBytes(tree.resolve(file)));
    }
  }
}
