package dev.jsoci.ztoc.gzip;

import static com.google.common.truth.Truth.assertWithMessage;
import static dev.jsoci.ztoc.gzip.GzipBuilder.readAll;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jsoci.ztoc.LayerFormatException;
import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.ZtocFormatException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.Deflater;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Feeds random and mutated checkpoint blobs and span data to {@link GzipZinfo}, and mutated gzip
 * blobs to {@link GzipCheckpointStream}. Every case must end in the format exception of the API or
 * in a correct result, within a bounded allocation. Each failure names its case number; the seed is
 * fixed.
 */
class GzipZinfoFuzzTest {
  private static final long SEED = 20_240_611L;
  private static final int PARSE_CASES = 3000;
  private static final int STREAM_CASES = 1500;

  private static byte[] layerBlob;
  private static byte[] layerData;
  private static GzipZinfo layerZinfo;
  private static byte[] legacyBlob;

  @BeforeAll
  static void buildLayer() throws IOException {
    // Two members with many mid-byte block ends, so spans start at every kind of checkpoint.
    Random random = new Random(SEED);
    GzipBuilder builder = new GzipBuilder();
    for (int member = 0; member < 2; member++) {
      builder.startMember(6, GzipBuilder.header(0, new byte[5], "fuzz", null));
      for (int chunk = 0; chunk < 40; chunk++) {
        byte[] data = GzipRoundTripPropertyTest.randomData(random, 500 + random.nextInt(4000));
        builder.write(data, chunk % 3 == 0 ? Deflater.SYNC_FLUSH : Deflater.NO_FLUSH);
      }
      builder.finishMember();
    }
    layerBlob = builder.blob();
    layerData = builder.uncompressed();
    GzipCheckpointStream stream =
        new GzipCheckpointStream(new ByteArrayInputStream(layerBlob), 2000, "fuzz");
    readAll(stream);
    layerZinfo = stream.toZinfo(layerData.length);

    byte[] current = layerZinfo.toBytes();
    legacyBlob = new byte[current.length - GzipZinfo.RECORD_SIZE];
    System.arraycopy(current, 0, legacyBlob, 0, GzipZinfo.HEADER_SIZE);
    System.arraycopy(
        current,
        GzipZinfo.HEADER_SIZE + GzipZinfo.RECORD_SIZE,
        legacyBlob,
        GzipZinfo.HEADER_SIZE,
        legacyBlob.length - GzipZinfo.HEADER_SIZE);
  }

  private static long allocatedBytes() {
    java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    if (bean instanceof com.sun.management.ThreadMXBean) {
      return ((com.sun.management.ThreadMXBean) bean)
          .getThreadAllocatedBytes(Thread.currentThread().getId());
    }
    return 0;
  }

  private static byte[] mutatedBlob(Random random) {
    switch (random.nextInt(8)) {
      case 0:
        {
          byte[] blob = new byte[random.nextInt(64)];
          random.nextBytes(blob);
          return blob;
        }
      case 1:
        {
          // A valid length for some count, with a random claimed count and random records.
          int records = random.nextInt(4);
          byte[] blob = new byte[GzipZinfo.HEADER_SIZE + records * GzipZinfo.RECORD_SIZE];
          random.nextBytes(blob);
          ByteBuffer.wrap(blob)
              .order(ByteOrder.LITTLE_ENDIAN)
              .putInt(0, random.nextBoolean() ? records + random.nextInt(2) : random.nextInt());
          return blob;
        }
      case 2:
        {
          byte[] base = random.nextBoolean() ? layerZinfo.toBytes() : legacyBlob.clone();
          int length = random.nextInt(base.length + 40);
          return Arrays.copyOf(base, length);
        }
      case 3:
      case 4:
        {
          // A valid blob whose windows may carry flipped bits.
          byte[] blob = random.nextBoolean() ? layerZinfo.toBytes() : legacyBlob.clone();
          if (random.nextBoolean()) {
            blob[GzipZinfo.HEADER_SIZE + 17 + random.nextInt(GzipCheckpoint.WINDOW_SIZE)] ^= 0x10;
          }
          return blob;
        }
      default:
        {
          // Flip bytes of the count or of record fields (in, out, bits), rarely of windows.
          byte[] blob = random.nextBoolean() ? layerZinfo.toBytes() : legacyBlob.clone();
          int flips = 1 + random.nextInt(3);
          for (int i = 0; i < flips; i++) {
            int records = (blob.length - GzipZinfo.HEADER_SIZE) / GzipZinfo.RECORD_SIZE;
            int index;
            if (random.nextInt(5) == 0 || records == 0) {
              index = random.nextInt(GzipZinfo.HEADER_SIZE);
            } else {
              int record = GzipZinfo.HEADER_SIZE + random.nextInt(records) * GzipZinfo.RECORD_SIZE;
              index = record + random.nextInt(random.nextInt(10) == 0 ? GzipZinfo.RECORD_SIZE : 17);
            }
            blob[index] ^= (byte) (1 << random.nextInt(8));
          }
          return blob;
        }
    }
  }

  @Test
  @Timeout(120)
  void parseAndDecompress_mutatedInputs_formatExceptionOrCorrectResult() {
    Random random = new Random(SEED);
    int parsed = 0;
    int decompressed = 0;
    for (int i = 0; i < PARSE_CASES; i++) {
      String context = "case " + i + " of seed " + SEED;
      byte[] blob = mutatedBlob(random);
      long compressedSize = random.nextInt(10) == 0 ? random.nextLong() : (long) layerBlob.length;
      long uncompressedSize = random.nextInt(10) == 0 ? random.nextInt() : (long) layerData.length;
      long before = allocatedBytes();
      try {
        GzipZinfo zinfo = GzipZinfo.parse(blob, compressedSize, uncompressedSize);
        parsed++;
        if (fuzzDecompress(random, zinfo, context)) {
          decompressed++;
        }
      } catch (ZtocFormatException expected) {
        // The outcome for invalid input.
      } catch (Throwable e) {
        fail(context + ": " + e, e);
      }
      long allocated = allocatedBytes() - before;
      assertWithMessage("%s: allocated bytes", context)
          .that(allocated)
          .isLessThan(8L * blob.length + 8L * layerBlob.length + (4L << 20));
    }
    assertWithMessage("parsed blobs").that(parsed).isGreaterThan(PARSE_CASES / 5);
    assertWithMessage("decompressed ranges").that(decompressed).isGreaterThan(PARSE_CASES / 20);
  }

  /**
   * Decompresses a random range with valid arguments, from the layer's bytes or mutated ones.
   * Returns whether a result came back.
   */
  private static boolean fuzzDecompress(Random random, GzipZinfo zinfo, String context)
      throws IOException {
    if (zinfo.maxSpanId() < 0) {
      return false;
    }
    int first = random.nextInt(zinfo.maxSpanId() + 1);
    Span span = zinfo.span(first);
    long nextStart =
        first == zinfo.maxSpanId()
            ? span.uncompressedStart() + 70_000
            : zinfo.span(first + 1).uncompressedStart();
    long offset =
        span.uncompressedStart()
            + (long) (random.nextDouble() * (nextStart - span.uncompressedStart()));
    int length = 1 + random.nextInt(random.nextBoolean() ? 100 : 70_000);
    int last = zinfo.spanOf(offset + length - 1);
    long needed = zinfo.span(last).compressedEnd() - span.compressedStart();
    if (needed < 0 || needed > (1 << 20) || span.compressedStart() < 0) {
      return false;
    }

    // Take the layer's own bytes where they exist, then mutate them in some cases.
    byte[] compressed = new byte[(int) needed];
    long start = span.compressedStart();
    if (start < layerBlob.length) {
      int available = (int) Math.min(needed, layerBlob.length - start);
      System.arraycopy(layerBlob, (int) start, compressed, 0, available);
    }
    boolean mutated = random.nextInt(3) == 0;
    if (mutated && compressed.length > 0) {
      for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
        compressed[random.nextInt(compressed.length)] ^= (byte) (1 << random.nextInt(8));
      }
    }

    byte[] result;
    try {
      result = zinfo.decompress(compressed, first, offset, length);
    } catch (ZtocFormatException expected) {
      return false;
    }
    assertWithMessage("%s: result length", context).that(result).hasLength(length);
    boolean intact =
        !mutated
            && Arrays.equals(zinfo.toBytes(), layerZinfo.toBytes())
            && zinfo.compressedArchiveSize() == layerBlob.length;
    if (intact && offset + length <= layerData.length) {
      assertWithMessage("%s: range [%s, +%s)", context, offset, length)
          .that(Arrays.equals(result, 0, length, layerData, (int) offset, (int) (offset + length)))
          .isTrue();
    }
    return true;
  }

  @Test
  @Timeout(120)
  void checkpointStream_mutatedGzip_layerFormatExceptionOrSameOutput() {
    Random random = new Random(SEED + 1);
    for (int i = 0; i < STREAM_CASES; i++) {
      String context = "case " + i + " of seed " + (SEED + 1);
      byte[] blob = layerBlob.clone();
      switch (random.nextInt(3)) {
        case 0:
          blob = Arrays.copyOf(blob, random.nextInt(blob.length + 20));
          break;
        case 1:
          for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
            // Favour the header and the trailer, where the checks are.
            int index =
                random.nextInt(4) == 0
                    ? random.nextInt(Math.min(20, blob.length))
                    : random.nextInt(blob.length);
            blob[index] ^= (byte) (1 << random.nextInt(8));
          }
          break;
        default:
          random.nextBytes(blob);
          blob[0] = 0x1f;
          blob[1] = (byte) 0x8b;
          blob[2] = 8;
      }
      try (GzipCheckpointStream stream =
          new GzipCheckpointStream(new ByteArrayInputStream(blob), 1 + random.nextInt(5000), "f")) {
        byte[] output = readAll(stream);
        // A cut between the members leaves a valid blob, so compare with java.util.zip.
        byte[] expected =
            new java.util.zip.GZIPInputStream(new ByteArrayInputStream(blob)).readAllBytes();
        assertWithMessage("%s: output", context).that(Arrays.equals(output, expected)).isTrue();
        assertWithMessage("%s: checkpoints", context).that(stream.checkpoints()).isNotEmpty();
      } catch (LayerFormatException expected) {
        // The outcome for invalid input.
      } catch (Throwable e) {
        fail(context + ": " + e, e);
      }
    }
  }
}
