package dev.jsoci.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jsoci.convert.ConvertListener;
import dev.jsoci.convert.ConvertOptions;
import dev.jsoci.convert.ConvertResult;
import dev.jsoci.convert.ConvertResult.PlatformResult;
import dev.jsoci.convert.Converter;
import dev.jsoci.convert.ImageLocation;
import dev.jsoci.convert.ImageStore;
import dev.jsoci.convert.LayerReport;
import dev.jsoci.convert.LayerReport.Outcome;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.LayerIndexDecision;
import dev.jsoci.oci.Platform;
import dev.jsoci.snapshotter.DirectoryTree;
import dev.jsoci.ztoc.ZtocBuilder;
import dev.jsoci.ztoc.gzip.GzipCheckpoint;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jsoci convert}: turns an image into a SOCI-enabled image (SOCI index manifest v2). */
@Command(
    name = "convert",
    mixinStandardHelpOptions = true,
    versionProvider = JsociVersion.class,
    description = {
      "Build zTOCs and a SOCI index v2 for an image and write it as a SOCI-enabled image.",
      "SRC and DST are registry references or OCI image layouts written oci:DIR[:TAG].",
      "Each layer is read once: indexed, and copied to DST in the same pass when DST lacks it.",
      "The last line of stdout is the digest of the new image index (sha256:<hex>), for scripts."
    })
final class ConvertCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--platform",
      paramLabel = "OS/ARCH[/VARIANT]",
      description =
          "A platform to convert; repeat for several (default: the host's platform, or the only "
              + "one of a single-manifest image).")
  List<String> platforms = new ArrayList<>();

  @Option(names = "--all-platforms", description = "Convert every platform of the image index.")
  boolean allPlatforms;

  @Option(
      names = "--span-size",
      paramLabel = "BYTES",
      description = "Uncompressed bytes between zTOC checkpoints (default: ${DEFAULT-VALUE}).")
  long spanSize = ZtocBuilder.DEFAULT_SPAN_SIZE;

  @Option(
      names = "--min-layer-size",
      paramLabel = "BYTES",
      description =
          "Layers with a smaller compressed size get no zTOC (default: ${DEFAULT-VALUE}).")
  long minLayerSize = LayerIndexDecision.DEFAULT_MIN_LAYER_SIZE_BYTES;

  @Option(
      names = "--force-gzip",
      description =
          "Re-compress uncompressed tar and zstd layers to gzip while indexing them; the image's "
              + "diff_ids stay valid. zstd layers need the system libzstd (libzstd.so.1). Without "
              + "this option, zstd layers are kept and get no zTOC.")
  boolean forceGzip;

  @Option(
      names = "--prefetch-file",
      paramLabel = "PATH",
      description =
          "A file the container reads when it starts; repeat for several. The path is cleaned and "
              + "looked up as the container sees it (links followed, whiteouts applied) among the "
              + "layers that get a zTOC, and its spans go into that layer's prefetch artifact, "
              + "which a snapshotter with prefetching on fetches at mount. A path that gets no "
              + "spans (missing, a directory, only in a layer under --min-layer-size) is a "
              + "warning on stderr, not an error.")
  List<String> prefetchFiles = new ArrayList<>();

  @Option(
      names = "--prefetch-files-json",
      paramLabel = "FILE",
      description =
          "A JSON array of paths, each taken as one --prefetch-file; given once, it adds to the "
              + "--prefetch-file options.")
  @Nullable Path prefetchFilesJson;

  @Option(
      names = "--optimizations",
      paramLabel = "NAME",
      split = ",",
      description =
          "Optimizations to apply, as AWS's soci names them; only xattr: the zTOC of a layer "
              + "without extended attributes and opaque directories is marked so, and its mounts "
              + "return ENOSYS for getxattr, after which the kernel sends them no more.")
  List<String> optimizations = new ArrayList<>();

  @Option(
      names = "--plain-http",
      description =
          "Use http instead of https for every registry (127.0.0.1 and localhost use http anyway).")
  boolean plainHttp;

  @Mixin HostsDirOption hostsDir;

  @Option(
      names = "--build-tool-identifier",
      paramLabel = "TEXT",
      description = "Stored in every zTOC and SOCI index (default: jsoci and its version).")
  String buildToolIdentifier = JsociVersion.buildToolIdentifier();

  @Parameters(index = "0", paramLabel = "SRC", description = "The image to convert.")
  String source;

  @Parameters(index = "1", paramLabel = "DST", description = "Where to write the converted image.")
  String destination;

  @Override
  public Integer call() throws IOException {
    ConvertOptions options = options();
    ImageLocation from = ReferenceArguments.source(spec, source, "SRC");
    ImageLocation to = ReferenceArguments.destination(spec, destination, "DST");
    RegistryOptions registryOptions = registryOptions(plainHttp, hostsDir);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (spanSize < GzipCheckpoint.WINDOW_SIZE) {
      err.println(
          "jsoci: warning: --span-size "
              + spanSize
              + " is below the "
              + GzipCheckpoint.WINDOW_SIZE
              + " bytes of window that each checkpoint stores, so the zTOCs of gzip layers will"
              + " be larger than the layers; the default is "
              + ZtocBuilder.DEFAULT_SPAN_SIZE);
    }

    // A failed conversion removes the layout directory it created, so that it leaves no empty
    // layout behind.
    @Nullable Path createdLayout =
        to.isLayout() && !Files.exists(to.layoutDirectory()) ? to.layoutDirectory() : null;
    ConvertResult result;
    try (LazyClient client = new LazyClient(registryOptions);
        ImageStore sourceStore = from.openStore(client, false);
        ImageStore destinationStore = to.openStore(client, true)) {
      String reference = from.sourceReference(sourceStore);
      String tag = to.destinationTag();
      ConvertListener listener = new ProgressPrinter(out, err, System.console() != null);
      result =
          new Converter(options, listener).convert(sourceStore, reference, destinationStore, tag);
    } catch (IOException | RuntimeException e) {
      if (createdLayout != null) {
        try {
          DirectoryTree.delete(createdLayout);
        } catch (IOException deleting) {
          e.addSuppressed(deleting);
        }
      }
      throw e;
    }

    printSummary(out, err, result);
    err.flush();
    out.println("new image index written to " + destination + ", digest on the next line:");
    out.println(result.index().digest());
    out.flush();
    return 0;
  }

  private ConvertOptions options() {
    if (spanSize <= 0) {
      throw new ParameterException(
          spec.commandLine(), "invalid --span-size " + spanSize + ": must be at least 1");
    }
    if (minLayerSize < 0) {
      throw new ParameterException(
          spec.commandLine(),
          "invalid --min-layer-size " + minLayerSize + ": must not be negative");
    }
    if (allPlatforms && !platforms.isEmpty()) {
      throw new ParameterException(
          spec.commandLine(), "--all-platforms and --platform exclude each other");
    }
    List<Platform> parsed = new ArrayList<>();
    for (String platform : platforms) {
      try {
        parsed.add(ConvertOptions.parsePlatform(platform));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage());
      }
    }
    for (String optimization : optimizations) {
      if (!optimization.equals("xattr")) {
        throw new ParameterException(
            spec.commandLine(),
            "invalid --optimizations value \"" + optimization + "\": the only one is xattr");
      }
    }
    List<String> prefetch = new ArrayList<>(prefetchFiles);
    if (prefetchFilesJson != null) {
      prefetch.addAll(readPathArray(prefetchFilesJson));
    }
    try {
      return ConvertOptions.builder(buildToolIdentifier)
          .platforms(parsed)
          .allPlatforms(allPlatforms)
          .spanSizeBytes(spanSize)
          .minLayerSizeBytes(minLayerSize)
          .forceGzip(forceGzip)
          .prefetchFiles(prefetch)
          .xattrOptimization(optimizations.contains("xattr"))
          .build();
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /** Reads the paths of {@code --prefetch-files-json}: a JSON array of strings. */
  private List<String> readPathArray(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new ParameterException(
          spec.commandLine(), "--prefetch-files-json " + file + ": no such file");
    } catch (IOException e) {
      throw new ParameterException(
          spec.commandLine(), "cannot read --prefetch-files-json " + file + ": " + e.getMessage());
    }
    JsonNode array;
    try {
      array = new ObjectMapper().readTree(bytes);
    } catch (JsonProcessingException e) {
      String where =
          e.getLocation() == null
              ? ""
              : " at line "
                  + e.getLocation().getLineNr()
                  + ", column "
                  + e.getLocation().getColumnNr();
      throw new ParameterException(
          spec.commandLine(),
          "--prefetch-files-json "
              + file
              + " is not valid JSON"
              + where
              + ": "
              + e.getOriginalMessage());
    } catch (IOException e) {
      throw new ParameterException(
          spec.commandLine(), "cannot read --prefetch-files-json " + file + ": " + e.getMessage());
    }
    if (array == null || !array.isArray()) {
      throw new ParameterException(
          spec.commandLine(),
          "--prefetch-files-json "
              + file
              + " must contain a JSON array of paths, such as "
              + "[\"/app/start.sh\", \"/usr/lib/libapp.so\"]");
    }
    List<String> paths = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      JsonNode path = array.get(i);
      if (!path.isTextual()) {
        throw new ParameterException(
            spec.commandLine(),
            "--prefetch-files-json "
                + file
                + ": item "
                + (i + 1)
                + " of the array is "
                + path
                + ", not a string");
      }
      paths.add(path.asText());
    }
    return paths;
  }

  private static void printSummary(PrintWriter out, PrintWriter err, ConvertResult result) {
    for (PlatformResult platform : result.platforms()) {
      String name = platform.platform() == null ? "image" : platform.platform().toString();
      for (String warning : platform.prefetchWarnings()) {
        err.println("jsoci: warning: " + name + ": " + warning + "; it is not prefetched");
      }
      if (platform.sociIndex() == null) {
        out.println(
            name
                + ": manifest "
                + platform.manifest().digest()
                + ", no SOCI index (no layer got a zTOC)");
      } else {
        out.println(
            name
                + ": manifest "
                + platform.manifest().digest()
                + ", SOCI index "
                + platform.sociIndex().digest());
      }
    }
    for (LayerReport layer : result.layers()) {
      if (layer.outcome() == Outcome.SKIPPED) {
        out.println("skipped " + describe(layer) + ": " + layer.reason());
      }
    }
    out.printf(
        Locale.ROOT,
        "layers: %d indexed, %d skipped, %d failed; %s uploaded in %.1f s%n",
        result.count(Outcome.INDEXED),
        result.count(Outcome.SKIPPED),
        result.count(Outcome.FAILED),
        formatBytes(result.uploadedBytes()),
        result.elapsed().toMillis() / 1000.0);
  }

  /**
   * Names a layer as the new manifest lists it, with the source layer it was re-compressed from, if
   * any: {@code layer sha256:... (linux/amd64, re-compressed from sha256:...)}.
   */
  static String describe(LayerReport layer) {
    Digest written = layer.layer().digest();
    Digest source = layer.source().digest();
    return "layer "
        + written
        + " ("
        + layer.platform()
        + (written.equals(source) ? "" : ", re-compressed from " + source)
        + ")";
  }

  static String formatBytes(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    if (bytes < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
    return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
  }

  /**
   * Prints a line per layer when stdout is a terminal, and every layer that failed to index on
   * stderr in any case.
   */
  private static final class ProgressPrinter implements ConvertListener {
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean terminal;

    ProgressPrinter(PrintWriter out, PrintWriter err, boolean terminal) {
      this.out = out;
      this.err = err;
      this.terminal = terminal;
    }

    @Override
    public void layerDone(LayerReport report, int number) {
      if (report.outcome() == Outcome.FAILED) {
        err.println("jsoci: " + describe(report) + " not indexed: " + report.reason());
        err.flush();
      }
      if (!terminal) {
        return;
      }
      String status;
      switch (report.outcome()) {
        case INDEXED:
          status = report.recompressed() ? "re-compressed to gzip, indexed" : "indexed";
          break;
        case SKIPPED:
          status = "skipped";
          break;
        default:
          status = "failed";
          break;
      }
      out.printf(
          Locale.ROOT,
          "layer %d %s %s %s (%s, %s uploaded, %.1f s)%n",
          number,
          report.source().digest().encoded().substring(0, 12),
          formatBytes(report.source().size()),
          status,
          report.platform(),
          formatBytes(report.uploadedBytes()),
          report.elapsed().toMillis() / 1000.0);
      out.flush();
    }
  }

  /**
   * Returns the registry settings of {@code --plain-http} and {@code --hosts-dir}.
   *
   * @throws picocli.CommandLine.ParameterException if {@code --hosts-dir} is not a directory
   */
  static RegistryOptions registryOptions(boolean plainHttp, HostsDirOption hostsDir) {
    return hostsDir.applyTo(RegistryOptions.builder().plainHttp(plainHttp)).build();
  }

  /** Creates the registry client on first use, so that layout-only runs never make one. */
  static final class LazyClient implements Supplier<RegistryClient>, AutoCloseable {
    private final RegistryOptions options;
    private @Nullable RegistryClient client;

    LazyClient(RegistryOptions options) {
      this.options = options;
    }

    @Override
    public RegistryClient get() {
      if (client == null) {
        client = RegistryClient.create(options);
      }
      return client;
    }

    @Override
    public void close() {
      if (client != null) {
        client.close();
      }
    }
  }
}
