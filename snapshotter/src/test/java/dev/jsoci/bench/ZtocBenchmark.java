package dev.jsoci.bench;

import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.Zinfos;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * Measures zTOC building and 4 KiB random reads through checkpoints on one layer blob. Run by
 * {@code scripts/bench-ztoc.sh}, which also measures zlib on the same file; not a unit test.
 *
 * <p>Arguments: {@code build LAYER} prints the build time of the best of three runs and the
 * uncompressed bytes; {@code read LAYER SPAN_SIZE READS} prints read latency percentiles.
 */
public final class ZtocBenchmark {
  private ZtocBenchmark() {}

  public static void main(String[] args) throws IOException {
    Path layer = Path.of(args[1]);
    switch (args[0]) {
      case "build" -> build(layer);
      case "read" -> read(layer, Long.parseLong(args[2]), Integer.parseInt(args[3]));
      default -> throw new IllegalArgumentException("unknown mode: " + args[0]);
    }
  }

  private static void build(Path layer) throws IOException {
    // One warm-up build lets the JIT compile the hot loops, as a long-running converter would.
    buildOnce(layer, ZtocBuilder.DEFAULT_SPAN_SIZE);
    double best = Double.MAX_VALUE;
    long uncompressed = 0;
    for (int run = 0; run < 3; run++) {
      long start = System.nanoTime();
      Ztoc ztoc = buildOnce(layer, ZtocBuilder.DEFAULT_SPAN_SIZE);
      best = Math.min(best, (System.nanoTime() - start) / 1e9);
      uncompressed = ztoc.uncompressedArchiveSize();
    }
    System.out.printf(Locale.ROOT, "build_seconds=%.3f uncompressed_bytes=%d%n", best, uncompressed);
  }

  private static Ztoc buildOnce(Path layer, long spanSize) throws IOException {
    try (InputStream in = Files.newInputStream(layer)) {
      return new ZtocBuilder(spanSize, "bench").build(in, layer.toString());
    }
  }

  private static void read(Path layer, long spanSize, int reads) throws IOException {
    Ztoc ztoc = buildOnce(layer, spanSize);
    Zinfo zinfo = Zinfos.of(ztoc, "bench");
    Random random = new Random(42);
    long[] nanos = new long[reads];
    try (FileChannel channel = FileChannel.open(layer, StandardOpenOption.READ)) {
      for (int i = -reads / 10; i < reads; i++) {
        long offset = (long) (random.nextDouble() * (ztoc.uncompressedArchiveSize() - 4096));
        long start = System.nanoTime();
        int id = zinfo.spanOf(offset);
        Span span = zinfo.span(id);
        int length = (int) Math.min(4096, span.uncompressedEnd() - offset);
        byte[] compressed = readFully(channel, span.compressedStart(), (int) span.compressedLength());
        zinfo.decompress(compressed, id, offset, length);
        if (i >= 0) {
          nanos[i] = System.nanoTime() - start;
        }
      }
    }
    Arrays.sort(nanos);
    System.out.printf(
        Locale.ROOT,
        "span_size=%d spans=%d reads=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f%n",
        spanSize,
        zinfo.maxSpanId() + 1,
        reads,
        nanos[reads / 2] / 1e6,
        nanos[reads * 9 / 10] / 1e6,
        nanos[reads * 99 / 100] / 1e6);
  }

  private static byte[] readFully(FileChannel channel, long offset, int length) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(length);
    while (buffer.hasRemaining()) {
      if (channel.read(buffer, offset + buffer.position()) < 0) {
        throw new IOException("layer ends before " + (offset + length));
      }
    }
    return buffer.array();
  }
}
