package dev.jsoci.ztoc.gzip;

import static com.google.common.truth.Truth.assertWithMessage;
import static dev.jsoci.ztoc.gzip.GzipBuilder.readAll;
import static dev.jsoci.ztoc.gzip.GzipBuilder.sha256;

import dev.jsoci.ztoc.Span;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.LongStream;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Builds random gzip layers (mixed data, levels, flushes, header fields, one or more members) and
 * checks checkpoints, span digests, the blob round trip and decompression of every span and of
 * random ranges against the known uncompressed bytes. Seeds are fixed so a failure reproduces;
 * every message names its seed.
 */
class GzipRoundTripPropertyTest {
  private static final long[] SPAN_SIZES = {1024, 4096, 10_000, 65_536, 1 << 20, 4 << 20};

  static LongStream seeds() {
    return LongStream.rangeClosed(1, 40);
  }

  /** A random layer and the uncompressed offsets where a block boundary must exist. */
  private record Layer(byte[] blob, byte[] data, int firstHeaderLength, List<Long> boundaries) {}

  private static Layer randomLayer(Random random) throws IOException {
    int sizeClass = random.nextInt(10);
    int totalSize;
    if (sizeClass < 3) {
      totalSize = random.nextInt(50_000);
    } else if (sizeClass < 8) {
      totalSize = 100_000 + random.nextInt(900_000);
    } else {
      totalSize = 1_000_000 + random.nextInt(3_000_000);
    }
    byte[] data = randomData(random, totalSize);
    int members = random.nextInt(10) < 7 ? 1 : 2 + random.nextInt(3);

    // Cut the data into members and each member into writes with random levels and flushes.
    GzipBuilder builder = new GzipBuilder();
    List<Long> boundaries = new ArrayList<>();
    int firstHeaderLength = -1;
    int position = 0;
    for (int member = 0; member < members; member++) {
      int memberEnd =
          member == members - 1
              ? data.length
              : position + random.nextInt(data.length - position + 1);
      byte[] header = randomHeader(random);
      if (firstHeaderLength < 0) {
        firstHeaderLength = header.length;
      }
      boundaries.add((long) position);
      builder.startMember(random.nextInt(10), header);
      while (position < memberEnd) {
        int chunk = Math.min(memberEnd - position, 1 + random.nextInt(randomChunkLimit(random)));
        if (random.nextInt(8) == 0) {
          builder.level(random.nextInt(10));
        }
        int flush = randomFlush(random);
        if (random.nextInt(20) == 0) {
          builder.write(new byte[0], Deflater.SYNC_FLUSH);
        }
        builder.write(Arrays.copyOfRange(data, position, position + chunk), flush);
        position += chunk;
        if (flush != Deflater.NO_FLUSH && position < memberEnd) {
          boundaries.add((long) position);
        }
      }
      builder.finishMember();
    }
    return new Layer(builder.blob(), data, firstHeaderLength, boundaries);
  }

  private static int randomChunkLimit(Random random) {
    int[] limits = {100, 5_000, 50_000, 300_000};
    return limits[random.nextInt(limits.length)];
  }

  private static int randomFlush(Random random) {
    int pick = random.nextInt(10);
    if (pick < 6) {
      return Deflater.NO_FLUSH;
    }
    return pick < 8 ? Deflater.SYNC_FLUSH : Deflater.FULL_FLUSH;
  }

  private static byte[] randomHeader(Random random) {
    int flags = random.nextBoolean() ? GzipBuilder.FHCRC : 0;
    flags |= random.nextBoolean() ? GzipBuilder.FTEXT : 0;
    byte[] extra = null;
    if (random.nextInt(3) == 0) {
      extra = new byte[random.nextInt(4) == 0 ? random.nextInt(65_536) : random.nextInt(100)];
      random.nextBytes(extra);
    }
    String name = random.nextInt(3) == 0 ? "layer-" + random.nextInt(1000) + ".tar" : null;
    String comment = random.nextInt(4) == 0 ? "x".repeat(random.nextInt(3000)) : null;
    return GzipBuilder.header(flags, extra, name, comment);
  }

  /** Returns a mix of random bytes, text, zeros and repeated records. */
  static byte[] randomData(Random random, int size) {
    byte[] data = new byte[size];
    int position = 0;
    while (position < size) {
      int length = Math.min(size - position, 1 + random.nextInt(200_000));
      switch (random.nextInt(4)) {
        case 0:
          byte[] noise = new byte[length];
          random.nextBytes(noise);
          System.arraycopy(noise, 0, data, position, length);
          break;
        case 1:
          byte[] text = GzipCheckpointStreamTest.randomText(random, length);
          System.arraycopy(text, 0, data, position, length);
          break;
        case 2:
          break;
        default:
          byte[] record = new byte[1 + random.nextInt(300)];
          random.nextBytes(record);
          for (int i = 0; i < length; i++) {
            data[position + i] =
                (byte) (record[i % record.length] ^ (random.nextInt(50) == 0 ? 1 : 0));
          }
      }
      position += length;
    }
    return data;
  }

  private static GzipCheckpointStream drain(byte[] blob, long spanSize, long seed, byte[] expected)
      throws IOException {
    GzipCheckpointStream stream =
        GzipCheckpointStream.newAllowingZeroSpanSize(
            new ByteArrayInputStream(blob), spanSize, "seed-" + seed);
    byte[] output = readAll(stream);
    assertWithMessage("seed %s: output of span size %s", seed, spanSize)
        .that(Arrays.equals(output, expected))
        .isTrue();
    return stream;
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void checkpointStream_randomLayer_matchesJavaZip(long seed) throws IOException {
    Random random = new Random(seed);
    Layer layer = randomLayer(random);
    byte[] blob = layer.blob();
    byte[] data = layer.data();
    long spanSize =
        random.nextBoolean()
            ? SPAN_SIZES[random.nextInt(SPAN_SIZES.length)]
            : 1 + random.nextInt(200_000);
    String context = "seed " + seed + ", span size " + spanSize + ", blob " + blob.length;

    // java.util.zip agrees with the builder's record of the data.
    byte[] javaZip = new GZIPInputStream(new ByteArrayInputStream(blob)).readAllBytes();
    assertWithMessage(context).that(Arrays.equals(javaZip, data)).isTrue();

    // With span size 0 every boundary with new output is a checkpoint, flushes included.
    GzipCheckpointStream everyBoundary = drain(blob, 0, seed, data);
    List<GzipCheckpoint> candidates = everyBoundary.checkpoints();
    List<Long> candidateOffsets = new ArrayList<>();
    for (GzipCheckpoint candidate : candidates) {
      candidateOffsets.add(candidate.uncompressedOffset());
    }
    for (long boundary : layer.boundaries()) {
      assertWithMessage("%s: flush or member start at %s", context, boundary)
          .that(boundary == 0 || candidateOffsets.contains(boundary))
          .isTrue();
    }

    // The chosen checkpoints are the greedy choice among those boundaries.
    GzipCheckpointStream stream = drain(blob, spanSize, seed, data);
    List<GzipCheckpoint> checkpoints = stream.checkpoints();
    assertWithMessage(context)
        .that(checkpoints)
        .isEqualTo(expectedCheckpoints(candidates, spanSize));
    assertWithMessage(context)
        .that(checkpoints.get(0).toString())
        .isEqualTo("(" + layer.firstHeaderLength() + ",0,0)");
    for (GzipCheckpoint checkpoint : checkpoints) {
      assertWithMessage("%s: window of %s", context, checkpoint)
          .that(Arrays.equals(checkpoint.window(), window(data, checkpoint.uncompressedOffset())))
          .isTrue();
    }
    assertWithMessage(context).that(stream.compressedSize()).isEqualTo(blob.length);

    // Span digests cover [cs, ce) of each span; the blob round trips through parse.
    long archiveSize =
        random.nextInt(4) == 0 ? random.nextInt(data.length + 1) : (long) data.length;
    GzipZinfo zinfo = stream.toZinfo(archiveSize);
    List<String> digests = stream.spanDigests();
    assertWithMessage(context).that(digests).hasSize(zinfo.maxSpanId() + 1);
    for (int id = 0; id <= zinfo.maxSpanId(); id++) {
      Span span = zinfo.span(id);
      assertWithMessage("%s: digest of span %s", context, span)
          .that(digests.get(id))
          .isEqualTo(sha256(blob, (int) span.compressedStart(), (int) span.compressedEnd()));
    }
    GzipZinfo parsed = GzipZinfo.parse(zinfo.toBytes(), blob.length, archiveSize);
    assertWithMessage(context).that(Arrays.equals(parsed.toBytes(), zinfo.toBytes())).isTrue();

    // Every whole span decompresses from its own bytes.
    for (int id = 0; id <= parsed.maxSpanId(); id++) {
      Span span = parsed.span(id);
      long length =
          id == parsed.maxSpanId()
              ? data.length - span.uncompressedStart()
              : span.uncompressedLength();
      checkRange(parsed, blob, data, span.uncompressedStart(), (int) length, context);
    }

    // Random ranges, including ones across spans and members.
    for (int i = 0; i < 25 && data.length > 0; i++) {
      long offset = random.nextInt(data.length);
      int maximum = (int) Math.min(data.length - offset, random.nextBoolean() ? 3000 : 600_000);
      checkRange(parsed, blob, data, offset, 1 + random.nextInt(maximum), context);
    }
  }

  private static void checkRange(
      GzipZinfo zinfo, byte[] blob, byte[] data, long offset, int length, String context)
      throws IOException {
    if (length == 0) {
      return;
    }
    int first = zinfo.spanOf(offset);
    int last = zinfo.spanOf(offset + length - 1);
    byte[] compressed =
        Arrays.copyOfRange(
            blob,
            (int) zinfo.span(first).compressedStart(),
            (int) zinfo.span(last).compressedEnd());

    byte[] result = zinfo.decompress(compressed, first, offset, length);

    assertWithMessage("%s: range [%s, +%s) from span %s", context, offset, length, first)
        .that(Arrays.equals(result, 0, length, data, (int) offset, (int) offset + length))
        .isTrue();
  }

  /** Applies the checkpoint rule to the boundaries found with span size 0. */
  private static List<GzipCheckpoint> expectedCheckpoints(
      List<GzipCheckpoint> candidates, long spanSize) {
    List<GzipCheckpoint> chosen = new ArrayList<>();
    long last = 0;
    for (GzipCheckpoint candidate : candidates) {
      if (chosen.isEmpty() || candidate.uncompressedOffset() - last > spanSize) {
        chosen.add(candidate);
        last = candidate.uncompressedOffset();
      }
    }
    return chosen;
  }

  private static byte[] window(byte[] data, long out) {
    byte[] window = new byte[GzipCheckpoint.WINDOW_SIZE];
    int length = (int) Math.min(out, window.length);
    System.arraycopy(data, (int) out - length, window, window.length - length, length);
    return window;
  }
}
