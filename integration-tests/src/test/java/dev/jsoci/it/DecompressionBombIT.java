package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.Platform;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Feeds a layer that inflates about 1000:1 (512 MiB of zeros in a gzip blob of about 500 KiB), and
 * tars with oversized metadata headers, to the zTOC builder, span reads, {@code jsoci convert} and
 * the layer unpacker, each in a JVM with a 64 MiB heap. Each must succeed or fail with a clear
 * error, and never run out of memory.
 */
class DecompressionBombIT {
  private static final long ZEROS_BYTES = 512L << 20;

  /** JVM options of every run: a heap far below the layer size, and exit on OutOfMemoryError. */
  private static final List<String> SMALL_HEAP =
      List.of("-Xmx64m", "-XX:+ExitOnOutOfMemoryError");

  @TempDir static Path work;

  private static Path bombTar;
  private static Path bombGzip;
  private static Digest bombDiffId;

  @BeforeAll
  static void writeBomb() throws Exception {
    bombTar = work.resolve("bomb.tar");
    bombGzip = work.resolve("bomb.tar.gz");
    MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
    try (OutputStream tar = new BufferedOutputStream(Files.newOutputStream(bombTar), 1 << 16);
        OutputStream gzip =
            new DigestOutputStream(
                new GZIPOutputStream(
                    new BufferedOutputStream(Files.newOutputStream(bombGzip), 1 << 16), 1 << 16),
                sha256)) {
      byte[] header = header("zeros", '0', ZEROS_BYTES);
      tar.write(header);
      gzip.write(header);
      byte[] zeros = new byte[1 << 20];
      for (long written = 0; written < ZEROS_BYTES; written += zeros.length) {
        tar.write(zeros);
        gzip.write(zeros);
      }
      tar.write(new byte[1024]);
      gzip.write(new byte[1024]);
    }
    bombDiffId = Digest.parse("sha256:" + HexFormat.of().formatHex(sha256.digest()));
    assertThat(Files.size(bombGzip)).isLessThan(ZEROS_BYTES / 500);
  }

  @Test
  void ztocBuildAndRead_stayInSmallHeap() throws Exception {
    Path ztoc = work.resolve("bomb.ztoc");

    Processes.Result build =
        jsoci(SMALL_HEAP, "ztoc", "build", "--out", ztoc.toString(), bombGzip.toString());
    Processes.Result read =
        jsoci(
            SMALL_HEAP,
            "ztoc",
            "get-file",
            "--ztoc",
            ztoc.toString(),
            "--layer",
            bombGzip.toString(),
            "--out",
            "/dev/null",
            "zeros");

    assertWithMessage(build.err()).that(build.status()).isEqualTo(0);
    assertThat(build.err()).doesNotContain("OutOfMemoryError");
    assertThat(Files.size(ztoc)).isGreaterThan(0L);
    assertWithMessage(read.err()).that(read.status()).isEqualTo(0);
    assertThat(read.err()).doesNotContain("OutOfMemoryError");
  }

  @Test
  void convert_staysInSmallHeap() throws Exception {
    OciLayout layout = OciLayout.create(work.resolve("layout"));
    Descriptor blob =
        layout.writeBlob(MediaType.OCI_LAYER_TAR_GZIP, Files.readAllBytes(bombGzip));
    Descriptor manifest =
        layout.writeImage(
            Platform.of("linux", "amd64"),
            List.of(new OciLayout.Layer(blob, bombDiffId, bombGzip)));
    layout.writeIndex(
        List.of(manifest.toBuilder().platform(Platform.of("linux", "amd64")).build()));

    Processes.Result convert =
        jsoci(
            SMALL_HEAP,
            "convert",
            "--min-layer-size",
            "0",
            "--platform",
            "linux/amd64",
            "oci:" + layout.directory + ":v1",
            "oci:" + work.resolve("converted") + ":v1");

    assertWithMessage(convert.err()).that(convert.status()).isEqualTo(0);
    assertThat(convert.err()).doesNotContain("OutOfMemoryError");
    assertThat(convert.out()).contains("sha256:");
  }

  @Test
  void unpack_staysInSmallHeap() throws Exception {
    Path directory = Files.createDirectories(work.resolve("unpacked"));
    try {
      Processes.Result unpack =
          java(
              SMALL_HEAP, "dev.jsoci.it.UnpackLayerMain", bombTar.toString(), directory.toString());

      assertWithMessage(unpack.err()).that(unpack.status()).isEqualTo(0);
      assertThat(Files.size(directory.resolve("zeros"))).isEqualTo(ZEROS_BYTES);
    } finally {
      Files.deleteIfExists(directory.resolve("zeros"));
    }
  }

  @Test
  void hugeMetadataHeaders_rejectedWithoutAllocation() throws Exception {
    // Each header claims 1 GiB of pax records or long name, and the tar ends after 4 KiB.
    for (char type : new char[] {'x', 'L', 'K'}) {
      Path tar = work.resolve("huge-" + type + ".tar");
      byte[] header = header("meta", type, 1L << 30);
      Files.write(tar, concat(header, new byte[4096]));

      Processes.Result build =
          jsoci(
              SMALL_HEAP,
              "ztoc",
              "build",
              "--out",
              work.resolve("huge.ztoc").toString(),
              tar.toString());
      Path directory = Files.createDirectories(work.resolve("huge-" + type));
      Processes.Result unpack =
          java(SMALL_HEAP, "dev.jsoci.it.UnpackLayerMain", tar.toString(), directory.toString());

      String what = "type " + type;
      assertWithMessage("%s: %s", what, build.err()).that(build.status()).isEqualTo(1);
      assertWithMessage(what).that(build.err()).contains("1073741824");
      assertWithMessage(what).that(build.err()).doesNotContain("OutOfMemoryError");
      assertWithMessage("%s: %s", what, unpack.err()).that(unpack.status()).isEqualTo(1);
      assertWithMessage(what).that(unpack.err()).contains("1073741824");
      assertWithMessage(what).that(unpack.err()).doesNotContain("OutOfMemoryError");
    }
  }

  private static Processes.Result jsoci(List<String> jvmOptions, String... args)
      throws IOException, InterruptedException {
    return java(jvmOptions, "dev.jsoci.cli.Main", args);
  }

  /** Runs {@code mainClass} with this test's class path in a new JVM. */
  private static Processes.Result java(List<String> jvmOptions, String mainClass, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(List.of(args));
    return Processes.start(command, work);
  }

  private static byte[] concat(byte[] first, byte[] second) {
    byte[] result = Arrays.copyOf(first, first.length + second.length);
    System.arraycopy(second, 0, result, first.length, second.length);
    return result;
  }

  /** Returns a ustar header whose size field is {@code size}, in octal. */
  private static byte[] header(String name, char type, long size) {
    byte[] block = new byte[512];
    put(block, 0, name.getBytes(UTF_8));
    put(block, 100, octal(0644, 8));
    put(block, 108, octal(0, 8));
    put(block, 116, octal(0, 8));
    put(block, 124, octal(size, 12));
    put(block, 136, octal(1_700_000_000L, 12));
    Arrays.fill(block, 148, 156, (byte) ' ');
    block[156] = (byte) type;
    put(block, 257, "ustar\0".getBytes(UTF_8));
    put(block, 263, "00".getBytes(UTF_8));
    int checksum = 0;
    for (byte b : block) {
      checksum += b & 0xff;
    }
    put(block, 148, octal(checksum, 8));
    return block;
  }

  private static byte[] octal(long value, int width) {
    String text = String.format("%0" + (width - 1) + "o", value);
    return Arrays.copyOf(text.getBytes(UTF_8), width);
  }

  private static void put(byte[] block, int offset, byte[] bytes) {
    System.arraycopy(bytes, 0, block, offset, bytes.length);
  }
}
