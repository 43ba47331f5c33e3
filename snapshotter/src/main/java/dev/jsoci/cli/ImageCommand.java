package dev.jsoci.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jsoci.convert.ConvertOptions;
import dev.jsoci.convert.ImageLocation;
import dev.jsoci.fetcher.discovery.DiscoveredIndex;
import dev.jsoci.fetcher.discovery.DiscoveryOptions;
import dev.jsoci.fetcher.discovery.IndexRegistry;
import dev.jsoci.fetcher.discovery.SociIndexDiscovery;
import dev.jsoci.fetcher.image.LayerTree;
import dev.jsoci.fetcher.image.MergedTree;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fetcher.registry.RegistryStatistics;
import dev.jsoci.fetcher.registry.ResolvedImage;
import dev.jsoci.fetcher.span.BlobRangeSource;
import dev.jsoci.fetcher.span.RegistryBlobRangeSource;
import dev.jsoci.fetcher.span.SpanEngine;
import dev.jsoci.fetcher.span.SpanManager;
import dev.jsoci.fetcher.span.SpanOptions;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.LayerCompression;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.Platform;
import dev.jsoci.oci.SociIndex;
import dev.jsoci.snapshotter.DirectoryTree;
import dev.jsoci.ztoc.EntryNotFoundException;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.TocIndex;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocBuilder;
import dev.jsoci.ztoc.ZtocCodec;
import dev.jsoci.ztoc.zstd.ZstdDecompressingInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jsoci image}: read files of remote images without pulling them. */
@Command(
    name = "image",
    mixinStandardHelpOptions = true,
    versionProvider = JsociVersion.class,
    description = "Read files of images in a registry, lazily where the image has a SOCI index.",
    subcommands = {ImageCommand.GetFile.class})
final class ImageCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
  }

  @Command(
      name = "get-file",
      mixinStandardHelpOptions = true,
      description = {
        "Write the bytes of one file of an image's final filesystem.",
        "A layer with a zTOC is read lazily: only the spans that hold the file are fetched. A "
            + "layer without one is downloaded whole to a temporary directory first."
      })
  static final class GetFile implements Callable<Integer> {
    private static final int COPY_BUFFER_BYTES = 1 << 20;

    @Spec CommandSpec spec;

    @Option(
        names = "--plain-http",
        description =
            "Use http instead of https for every registry (always the case for "
                + "localhost and 127.0.0.1).")
    boolean plainHttp;

    @Mixin HostsDirOption hostsDir;

    @Option(
        names = "--platform",
        paramLabel = "OS/ARCH[/VARIANT]",
        description = "The platform to read from a multi-platform image (default: this host's).")
    @Nullable String platform;

    @Option(
        names = "--stats",
        description = "Print one JSON line of fetch statistics on stderr when done.")
    boolean stats;

    @Option(
        names = "--out",
        paramLabel = "FILE",
        description = "Where to write; - or no --out writes to stdout.")
    @Nullable Path out;

    @Parameters(index = "0", paramLabel = "REF", description = "The image reference.")
    String reference;

    @Parameters(index = "1", paramLabel = "PATH", description = "The file's path in the image.")
    String path;

    /** The zTOC and byte source of one layer, recorded as the tree loads the layer. */
    private record LayerAccess(Descriptor layer, Ztoc ztoc, BlobRangeSource source, boolean lazy) {}

    @Override
    public Integer call() throws IOException {
      long start = System.nanoTime();
      if (out != null && out.toString().equals("-")) {
        out = null;
      }
      if (reference.startsWith(ImageLocation.LAYOUT_PREFIX)) {
        throw new ParameterException(
            spec.commandLine(),
            "invalid image reference \""
                + reference
                + "\": image get-file reads images from registries, not OCI image layouts; push"
                + " the layout to a registry first, for example with skopeo copy oci:DIR:TAG"
                + " docker://HOST/REPOSITORY:TAG");
      }
      ImageRef ref = ReferenceArguments.imageRef(spec, reference);
      Platform wanted =
          platform == null
              ? ConvertOptions.detectHostPlatform()
              : ConvertOptions.parsePlatform(platform);
      RegistryStatistics registryStatistics = new RegistryStatistics();
      RegistryOptions options =
          hostsDir
              .applyTo(RegistryOptions.builder().plainHttp(plainHttp).listener(registryStatistics))
              .build();
      Path downloads = Files.createTempDirectory("jsoci-get-file-");
      ExecutorService executor = Executors.newFixedThreadPool(4, daemonThreads());
      try (RegistryClient client = RegistryClient.create(options);
          SpanEngine engine =
              SpanEngine.start(SpanOptions.builder().backgroundFetch(false).build())) {
        ResolvedImage image = client.resolveImage(ref, wanted);
        SociIndexDiscovery discovery =
            new SociIndexDiscovery(IndexRegistry.of(client), DiscoveryOptions.defaults(), executor);
        Optional<DiscoveredIndex> found =
            discovery.discover(
                ref, image.manifest().descriptor().digest(), null, image.parsedManifest());
        SociIndex index =
            found.isPresent()
                ? SociIndex.parse(client.fetchManifest(ref, found.get().digest()).bytes())
                : null;

        // Layers are numbered from the top here, as the merged tree looks them up.
        List<Descriptor> layers = new ArrayList<>(image.parsedManifest().layers());
        java.util.Collections.reverse(layers);
        List<LayerAccess> accessed = new ArrayList<>();
        MergedTree tree =
            new MergedTree(
                layers.size(),
                i -> {
                  LayerAccess access = openLayer(client, ref, index, layers.get(i), downloads);
                  accessed.add(access);
                  return LayerTree.of(
                      TocIndex.of(access.ztoc(), access.layer().digest().toString()));
                });
        MergedTree.Found file = tree.resolve(path);
        TocEntry entry = file.entry();
        if (entry.type() != EntryType.REGULAR) {
          throw new EntryNotFoundException(
              "path \"" + path + "\" is a " + entry.type().wireName() + ", not a regular file");
        }

        LayerAccess access = accessed.get(file.layer());
        long spansFetched;
        try (SpanManager layer =
            engine.openLayer(access.layer().digest(), access.ztoc(), access.source())) {
          // Fetch every span of the file at once; the reads below wait for their own spans.
          layer.prefetch(List.of(entry));
          copy(layer, entry);
          spansFetched = access.lazy() ? layer.statistics().spansFetched() : 0;
        }

        if (stats) {
          printStatistics(registryStatistics, spansFetched, start, found, accessed, access);
        }
        return 0;
      } finally {
        executor.shutdownNow();
        DirectoryTree.delete(downloads);
      }
    }

    private static LayerAccess openLayer(
        RegistryClient client,
        ImageRef ref,
        @Nullable SociIndex index,
        Descriptor layer,
        Path downloads)
        throws IOException {
      Optional<Descriptor> ztocDescriptor =
          index == null ? Optional.empty() : index.ztocFor(layer.digest());
      if (ztocDescriptor.isPresent()) {
        String source = ztocDescriptor.get().digest().toString();
        ZtocCodec.checkSize(ztocDescriptor.get().size(), source);
        byte[] bytes = client.readBlob(ref, ztocDescriptor.get());
        Ztoc ztoc = ZtocCodec.decode(bytes, source);
        return new LayerAccess(layer, ztoc, RegistryBlobRangeSource.of(client, ref, layer), true);
      }

      // Without a zTOC the layer is downloaded, then indexed locally so that it is read the
      // same way as a lazy one. A zstd layer is stored as its tar, since zTOCs cannot index zstd.
      Path blob = downloads.resolve(layer.digest().encoded());
      try (InputStream in = client.newBlobStream(ref, layer)) {
        if (MediaType.layerCompression(layer.mediaType()) == LayerCompression.ZSTD) {
          try (InputStream tar = new ZstdDecompressingInputStream(in, "layer " + layer.digest())) {
            Files.copy(tar, blob, StandardCopyOption.REPLACE_EXISTING);
          }
        } else {
          Files.copy(in, blob, StandardCopyOption.REPLACE_EXISTING);
        }
      }
      Ztoc ztoc;
      try (InputStream in = Files.newInputStream(blob)) {
        ztoc =
            new ZtocBuilder(ZtocBuilder.DEFAULT_SPAN_SIZE, JsociVersion.buildToolIdentifier())
                .build(in, layer.digest().toString());
      }
      return new LayerAccess(layer, ztoc, BlobRangeSource.of(blob), false);
    }

    private void copy(SpanManager layer, TocEntry entry) throws IOException {
      OutputStream target;
      Path temporary = null;
      if (out == null) {
        target = new BufferedOutputStream(System.out, COPY_BUFFER_BYTES);
      } else {
        temporary = out.toAbsolutePath().resolveSibling("." + out.getFileName() + ".partial");
        target = new BufferedOutputStream(Files.newOutputStream(temporary), COPY_BUFFER_BYTES);
      }
      try {
        ByteBuffer buffer = ByteBuffer.allocate(COPY_BUFFER_BYTES);
        long offset = entry.uncompressedOffset();
        long end = offset + entry.uncompressedSize();
        while (offset < end) {
          buffer.clear().limit((int) Math.min(buffer.capacity(), end - offset));
          int read = layer.read(offset, buffer);
          if (read <= 0) {
            throw new EOFException(
                "layer ends at " + offset + " inside \"" + path + "\", which ends at " + end);
          }
          target.write(buffer.array(), 0, read);
          offset += read;
        }
        target.flush();
      } catch (IOException | RuntimeException e) {
        if (temporary != null) {
          target.close();
          Files.deleteIfExists(temporary);
        }
        throw e;
      }
      if (temporary != null) {
        target.close();
        Files.move(temporary, out, StandardCopyOption.REPLACE_EXISTING);
      }
    }

    private void printStatistics(
        RegistryStatistics registryStatistics,
        long spansFetched,
        long start,
        Optional<DiscoveredIndex> found,
        List<LayerAccess> accessed,
        LayerAccess fileLayer)
        throws IOException {
      long bytes = 0;
      long requests = 0;
      for (RegistryStatistics.Counts counts : registryStatistics.snapshot().values()) {
        bytes += counts.bytesReceived();
        requests += counts.requests();
      }
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("bytes_fetched", bytes);
      json.put("spans_fetched", spansFetched);
      json.put("requests", requests);
      json.put("seconds", Math.round((System.nanoTime() - start) / 1e6) / 1e3);
      json.put("soci_index", found.map(index -> index.digest().toString()).orElse(null));
      json.put("mode", fileLayer.lazy() ? "lazy" : "download");
      json.put("layer", fileLayer.layer().digest().toString());
      json.put("layers_read_lazily", accessed.stream().filter(LayerAccess::lazy).count());
      json.put("layers_downloaded", accessed.stream().filter(access -> !access.lazy()).count());
      spec.commandLine().getErr().println(new ObjectMapper().writeValueAsString(json));
      spec.commandLine().getErr().flush();
    }
  }

  private static java.util.concurrent.ThreadFactory daemonThreads() {
    return task -> {
      Thread thread = new Thread(task, "jsoci-get-file");
      thread.setDaemon(true);
      return thread;
    };
  }
}
