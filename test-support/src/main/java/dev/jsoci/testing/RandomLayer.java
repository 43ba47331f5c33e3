package dev.jsoci.testing;

import static java.nio.charset.StandardCharsets.US_ASCII;

import dev.jsoci.oci.Digest;
import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.Zinfos;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocBuilder;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * A layer built in memory for tests: random regular files packed as a USTAR archive, gzipped with a
 * sync flush every 4 KiB so that deflate blocks, and therefore checkpoints, are frequent, and its
 * zTOC with 64 KiB spans.
 *
 * @param tar the uncompressed tar stream, record padding included
 * @param blob the layer blob: {@code tar} gzipped, or {@code tar} itself for a plain tar layer
 * @param digest the digest of {@code blob}
 * @param zinfo the span layout of {@code ztoc}
 */
public record RandomLayer(byte[] tar, byte[] blob, Digest digest, Ztoc ztoc, Zinfo zinfo) {
  /** The span size of the zTOC, in uncompressed bytes. */
  public static final long SPAN_SIZE = 64 * 1024;

  private static final int BLOCK = 512;
  private static final int RECORD = 10240;

  /** Returns a gzip layer of {@code files} files of up to {@code maxFileBytes} bytes each. */
  public static RandomLayer gzip(long seed, int files, int maxFileBytes) {
    byte[] tar = tarOfRandomFiles(new Random(seed), files, maxFileBytes);
    return of(tar, gzipWithFlushes(tar));
  }

  /** Returns a plain tar layer of files of the given sizes; its blob is the tar archive itself. */
  public static RandomLayer plainTar(long seed, int... fileSizes) {
    Random random = new Random(seed);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < fileSizes.length; i++) {
      writeFile(out, "files/file-" + i + ".bin", fileContent(random, fileSizes[i]));
    }
    return of(finish(out), finish(out));
  }

  private static RandomLayer of(byte[] tar, byte[] blob) {
    Digest digest = Digest.sha256Of(blob);
    try {
      Ztoc ztoc =
          new ZtocBuilder(SPAN_SIZE, "jsoci tests")
              .build(new ByteArrayInputStream(blob), digest.toString());
      return new RandomLayer(tar, blob, digest, ztoc, Zinfos.of(ztoc, digest.toString()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int spanCount() {
    return zinfo.maxSpanId() + 1;
  }

  public Span span(int id) {
    return zinfo.span(id);
  }

  /** Returns the tar bytes of {@code [offset, offset + length)}. */
  public byte[] tarRange(long offset, int length) {
    return Arrays.copyOfRange(tar, (int) offset, (int) offset + length);
  }

  /** Returns the entries of the zTOC, in tar order. */
  public List<TocEntry> files() {
    return ztoc.entries();
  }

  /** Returns a copy of the zTOC whose span digests are all {@code digest}. */
  public Ztoc withSpanDigests(String digest) {
    return new Ztoc(
        ztoc.version(),
        ztoc.buildToolIdentifier(),
        ztoc.compressedArchiveSize(),
        ztoc.uncompressedArchiveSize(),
        ztoc.entries(),
        ztoc.compressionAlgorithm(),
        ztoc.maxSpanId(),
        Collections.nCopies(ztoc.spanDigests().size(), digest),
        ztoc.checkpoints());
  }

  private static byte[] tarOfRandomFiles(Random random, int files, int maxFileBytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < files; i++) {
      writeFile(
          out, "files/file-" + i + ".bin", fileContent(random, 1 + random.nextInt(maxFileBytes)));
    }
    return finish(out);
  }

  private static void writeFile(ByteArrayOutputStream out, String name, byte[] data) {
    out.writeBytes(header(name, data.length));
    out.writeBytes(data);
    out.writeBytes(new byte[padding(data.length, BLOCK)]);
  }

  /** Returns the archive with its end-of-archive marker and the padding to a whole record. */
  private static byte[] finish(ByteArrayOutputStream entries) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(entries.toByteArray());
    out.writeBytes(new byte[2 * BLOCK]);
    out.writeBytes(new byte[padding(out.size(), RECORD)]);
    return out.toByteArray();
  }

  /** Half random bytes, half text, so that the data compresses but not to nothing. */
  private static byte[] fileContent(Random random, int size) {
    byte[] data = new byte[size];
    random.nextBytes(data);
    byte[] text = "lazy pulling reads only the spans it needs. ".getBytes(US_ASCII);
    for (int i = 0; i < size; i += 2048) {
      for (int j = 0; j < 1024 && i + j < size; j++) {
        data[i + j] = text[j % text.length];
      }
    }
    return data;
  }

  private static int padding(int size, int unit) {
    return (unit - size % unit) % unit;
  }

  private static byte[] header(String name, long size) {
    byte[] block = new byte[BLOCK];
    put(block, 0, name);
    put(block, 100, "0000644");
    put(block, 108, "0000000");
    put(block, 116, "0000000");
    put(block, 124, String.format("%011o", size));
    put(block, 136, String.format("%011o", 1_700_000_000L));
    Arrays.fill(block, 148, 156, (byte) ' ');
    block[156] = '0';
    put(block, 257, "ustar");
    put(block, 263, "00");
    int checksum = 0;
    for (byte b : block) {
      checksum += b & 0xff;
    }
    put(block, 148, String.format("%06o", checksum));
    block[154] = 0;
    block[155] = ' ';
    return block;
  }

  private static void put(byte[] block, int offset, String text) {
    byte[] bytes = text.getBytes(US_ASCII);
    System.arraycopy(bytes, 0, block, offset, bytes.length);
  }

  private static byte[] gzipWithFlushes(byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out, 8192, true)) {
      for (int i = 0; i < data.length; i += 4096) {
        gzip.write(data, i, Math.min(4096, data.length - i));
        gzip.flush();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
