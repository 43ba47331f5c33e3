package dev.jsoci.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jsoci.convert.ConvertOptions;
import dev.jsoci.convert.ImageLocation;
import dev.jsoci.convert.ImageStore;
import dev.jsoci.convert.IndexInspector;
import dev.jsoci.convert.IndexInspector.LayerInfo;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.LayerIndexDecision;
import dev.jsoci.oci.Platform;
import dev.jsoci.oci.PrefetchArtifact;
import dev.jsoci.oci.SociAnnotations;
import dev.jsoci.oci.SociIndex;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jsoci index}: inspect the SOCI index of an image. */
@Command(
    name = "index",
    mixinStandardHelpOptions = true,
    versionProvider = JsociVersion.class,
    description = "Inspect SOCI indexes of images in a registry or an OCI image layout.",
    subcommands = {IndexCommand.Info.class})
final class IndexCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing subcommand");
  }

  @Command(
      name = "info",
      mixinStandardHelpOptions = true,
      description = {
        "Print the SOCI index v2 of an image as JSON: per layer its zTOC, or why it has none.",
        "The index is found through the image manifest's com.amazon.soci.index-digest annotation."
      })
  static final class Info implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--platform",
        paramLabel = "OS/ARCH[/VARIANT]",
        description = "The platform to inspect in an image index (default: the host's platform).")
    String platform;

    @Option(
        names = "--min-layer-size",
        paramLabel = "BYTES",
        description =
            "The minimum layer size the index was built with, to explain missing zTOCs "
                + "(default: ${DEFAULT-VALUE}).")
    long minLayerSize = LayerIndexDecision.DEFAULT_MIN_LAYER_SIZE_BYTES;

    @Option(names = "--plain-http", description = "Use http instead of https for the registry.")
    boolean plainHttp;

    @Mixin HostsDirOption hostsDir;

    @Parameters(paramLabel = "REF", description = "A registry reference or oci:DIR[:TAG].")
    String reference;

    @Override
    public Integer call() throws IOException {
      Platform requested;
      ImageLocation location;
      try {
        requested =
            platform == null
                ? ConvertOptions.detectHostPlatform()
                : ConvertOptions.parsePlatform(platform);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage());
      }
      location = ReferenceArguments.source(spec, reference, "");
      RegistryOptions registryOptions = ConvertCommand.registryOptions(plainHttp, hostsDir);

      IndexInspector.Report report;
      try (ConvertCommand.LazyClient client = new ConvertCommand.LazyClient(registryOptions);
          ImageStore store = location.openStore(client, false)) {
        report =
            IndexInspector.inspect(store, location.sourceReference(store), requested, minLayerSize);
      }

      PrintWriter out = spec.commandLine().getOut();
      ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      out.println(mapper.writeValueAsString(toJson(location, report)));
      out.flush();
      return 0;
    }

    private static Map<String, Object> toJson(
        ImageLocation location, IndexInspector.Report report) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("image", location.toString());
      json.put("manifest", report.manifest().digest().toString());
      json.put("platform", report.platform() == null ? null : report.platform().toString());

      SociIndex index = report.index();
      Descriptor descriptor = report.sociIndex();
      if (index == null || descriptor == null) {
        json.put("soci_index", null);
      } else {
        Map<String, Object> indexJson = new LinkedHashMap<>();
        indexJson.put("digest", descriptor.digest().toString());
        indexJson.put("size", descriptor.size());
        indexJson.put("version", index.version().name().toLowerCase(java.util.Locale.ROOT));
        indexJson.put(
            "build_tool_identifier",
            index.annotations().get(SociAnnotations.BUILD_TOOL_IDENTIFIER));
        indexJson.put("ztocs", index.ztocs().size());
        indexJson.put("prefetch_artifacts", index.prefetches().size());
        json.put("soci_index", indexJson);
      }

      List<Map<String, Object>> layers = new ArrayList<>();
      for (LayerInfo info : report.layers()) {
        Map<String, Object> layer = new LinkedHashMap<>();
        layer.put("digest", info.layer().digest().toString());
        layer.put("size", info.layer().size());
        layer.put("media_type", info.layer().mediaType());
        Descriptor ztoc = info.ztoc();
        if (ztoc == null) {
          layer.put("ztoc", null);
          layer.put("reason", info.reason());
        } else {
          Map<String, Object> ztocJson = new LinkedHashMap<>();
          ztocJson.put("digest", ztoc.digest().toString());
          ztocJson.put("size", ztoc.size());
          ztocJson.put("span_size", numberIfInteger(ztoc.annotation(SociAnnotations.SPAN_SIZE)));
          layer.put("ztoc", ztocJson);
        }
        Descriptor prefetch = info.prefetch();
        PrefetchArtifact artifact = info.prefetchArtifact();
        if (prefetch != null && artifact != null) {
          Map<String, Object> prefetchJson = new LinkedHashMap<>();
          prefetchJson.put("digest", prefetch.digest().toString());
          prefetchJson.put("size", prefetch.size());
          List<List<Integer>> ranges = new ArrayList<>();
          for (PrefetchArtifact.SpanRange range : artifact.spans()) {
            ranges.add(List.of(range.startSpan(), range.endSpan()));
          }
          prefetchJson.put("spans", ranges);
          layer.put("prefetch", prefetchJson);
        }
        layers.add(layer);
      }
      json.put("layers", layers);
      return json;
    }

    /**
     * Returns an annotation value as a number when it is a decimal integer, so that sizes print as
     * JSON numbers, and otherwise the text unchanged (or null when the annotation is missing).
     */
    static @Nullable Object numberIfInteger(@Nullable String value) {
      if (value == null) {
        return null;
      }
      try {
        return Long.parseLong(value);
      } catch (NumberFormatException e) {
        return value;
      }
    }
  }
}
