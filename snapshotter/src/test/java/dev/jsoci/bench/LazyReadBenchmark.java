package dev.jsoci.bench;

import dev.jsoci.fetcher.discovery.DiscoveredIndex;
import dev.jsoci.fetcher.discovery.DiscoveryOptions;
import dev.jsoci.fetcher.discovery.IndexRegistry;
import dev.jsoci.fetcher.discovery.SociIndexDiscovery;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fetcher.registry.RegistryStatistics;
import dev.jsoci.fetcher.registry.ResolvedImage;
import dev.jsoci.fetcher.span.RegistryBlobRangeSource;
import dev.jsoci.fetcher.span.SpanEngine;
import dev.jsoci.fetcher.span.SpanManager;
import dev.jsoci.fetcher.span.SpanOptions;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.Platform;
import dev.jsoci.oci.SociIndex;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocCodec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.util.Locale;
import java.util.concurrent.ForkJoinPool;
import picocli.CommandLine;

/**
 * Measures lazy reads against a loopback registry; run by {@code scripts/bench-lazy.sh}, not a
 * unit test.
 *
 * <p>{@code get-file REF PATH WARMUP_PATH} runs {@code jsoci image get-file --stats} in this JVM,
 * first on WARMUP_PATH so that classes are loaded and compiled as in a long-running process, then
 * on PATH, and prints the second run's statistics and wall time. {@code sequential REF} reads the
 * whole of the image's top indexed layer through a fresh span engine, with a readahead of two
 * spans, and prints the seconds and
 * the bytes of tar read.
 */
public final class LazyReadBenchmark {
  private LazyReadBenchmark() {}

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "get-file" -> getFile(args[1], args[2], args[3]);
      case "sequential" -> sequential(args[1]);
      default -> throw new IllegalArgumentException("unknown mode: " + args[0]);
    }
  }

  private static void getFile(String reference, String path, String warmupPath) throws Exception {
    runGetFile(reference, warmupPath);
    long start = System.nanoTime();
    String statistics = runGetFile(reference, path);
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(Locale.ROOT, "wall_seconds=%.3f stats=%s%n", seconds, statistics.strip());
  }

  private static String runGetFile(String reference, String path) {
    StringWriter err = new StringWriter();
    CommandLine commandLine = dev.jsoci.cli.BenchmarkAccess.newCommandLine();
    commandLine.setErr(new PrintWriter(err));
    int status =
        commandLine.execute(
            "image", "get-file", "--plain-http", "--stats", "--out", "/dev/null", reference, path);
    if (status != 0) {
      throw new IllegalStateException("get-file failed: " + err);
    }
    return err.toString();
  }

  private static void sequential(String reference) throws Exception {
    ImageRef ref = ImageRef.parse(reference);
    RegistryStatistics statistics = new RegistryStatistics();
    try (RegistryClient client =
        RegistryClient.create(
            RegistryOptions.builder().plainHttp(true).listener(statistics).build())) {
      ResolvedImage image = client.resolveImage(ref, Platform.of("linux", "amd64"));
      SociIndexDiscovery discovery =
          new SociIndexDiscovery(
              IndexRegistry.of(client), DiscoveryOptions.defaults(), ForkJoinPool.commonPool());
      DiscoveredIndex found =
          discovery
              .discover(ref, image.manifest().descriptor().digest(), null)
              .orElseThrow(() -> new IllegalStateException("image has no SOCI index"));
      SociIndex index = SociIndex.parse(client.fetchManifest(ref, found.digest()).bytes());
      Descriptor layer = null;
      Descriptor ztocDescriptor = null;
      for (Descriptor candidate : image.parsedManifest().layers()) {
        if (index.ztocFor(candidate.digest()).isPresent()) {
          layer = candidate;
          ztocDescriptor = index.ztocFor(candidate.digest()).get();
        }
      }
      if (layer == null) {
        throw new IllegalStateException("no layer of the image has a zTOC");
      }
      Ztoc ztoc =
          ZtocCodec.decode(client.readBlob(ref, ztocDescriptor), ztocDescriptor.digest().toString());

      long start = System.nanoTime();
      long total = 0;
      try (SpanEngine engine =
              SpanEngine.start(
                  SpanOptions.builder().backgroundFetch(false).readaheadSpans(2).build());
          SpanManager manager =
              engine.openLayer(layer.digest(), ztoc, RegistryBlobRangeSource.of(client, ref, layer))) {
        ByteBuffer buffer = ByteBuffer.allocate(1 << 20);
        while (true) {
          buffer.clear();
          int read = manager.read(total, buffer);
          if (read < 0) {
            break;
          }
          total += read;
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(
          Locale.ROOT,
          "seconds=%.3f tar_bytes=%d compressed_bytes=%d%n",
          seconds,
          total,
          layer.size());
    }
  }
}
