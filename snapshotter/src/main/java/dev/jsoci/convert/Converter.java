package dev.jsoci.convert;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.jsoci.convert.ConvertResult.PlatformResult;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.LayerCompression;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.OciFormatException;
import dev.jsoci.oci.Platform;
import dev.jsoci.oci.PrefetchArtifact;
import dev.jsoci.oci.SociIndex;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import org.jspecify.annotations.Nullable;

/**
 * Converts an image into a SOCI-enabled image (SOCI index manifest v2) and tags the result.
 *
 * <h2>Steps</h2>
 *
 * <ol>
 *   <li>Resolve the source to an image index; a single manifest stands for an index with one entry
 *       whose platform comes from its config.
 *   <li>Choose the entries to convert ({@link PlatformSelection}).
 *   <li>For each image entry, in index order: copy its config; for a chosen entry, run every layer
 *       through {@link LayerPass} (one read per layer, zTOC and copy in the same pass) and write
 *       the zTOCs, the {@code {}} config blob and the SOCI index; for the others, copy the layers.
 *       Then write the rewritten manifest ({@link ImageRewrite}).
 *   <li>Place the SOCI index entries, copy the entries that stay as they were (SOCI indexes of
 *       platforms not converted again, nested indexes), and write the new index under the tag.
 * </ol>
 *
 * A layer shared by several platforms is processed once. Blobs the destination has are not sent
 * again, and when source and destination are the same store nothing is copied.
 *
 * <p>Unlike {@code soci convert}, SOCI index entries of an earlier conversion are not rewritten as
 * if they were image manifests: an entry whose platform is converted again is replaced, and the
 * others are kept with their bytes and digests.
 */
public final class Converter {
  /**
   * Layers converted at once, at most one per core and never more than four. Each layer pass
   * inflates on its own thread, so extra passes beyond the cores would only contend for them.
   */
  private static final int LAYER_THREADS = Math.min(4, Runtime.getRuntime().availableProcessors());

  /** The largest image config that is read to find a single-manifest image's platform. */
  private static final int MAX_CONFIG_BYTES = 4 << 20;

  private final ConvertOptions options;
  private final ConvertListener listener;

  public Converter(ConvertOptions options, ConvertListener listener) {
    this.options = Objects.requireNonNull(options, "options");
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  /**
   * Converts the image {@code sourceReference} of {@code source} and tags the result {@code
   * destinationTag} in {@code destination}, which may be the same store.
   *
   * @param sourceReference a tag or digest in {@code source}
   * @throws ConvertException when the source is not an image, a platform is missing, or no layer of
   *     any chosen platform got a zTOC; nothing is tagged then
   * @throws IOException when reading or writing fails, or content does not match its digest
   */
  public ConvertResult convert(
      ImageStore source, String sourceReference, ImageStore destination, String destinationTag)
      throws IOException {
    long start = System.nanoTime();
    String image = source.name() + ":" + sourceReference;
    ExecutorService layerThreads =
        Executors.newFixedThreadPool(LAYER_THREADS, Converter::layerThread);
    try {
      Run run = new Run(source, destination, image, layerThreads);
      return convert(source, sourceReference, destination, destinationTag, start, image, run);
    } finally {
      layerThreads.shutdownNow();
    }
  }

  /** Returns {@code layers} ordered by size, largest first. Equal sizes keep their order. */
  static List<Descriptor> largestFirst(List<Descriptor> layers) {
    List<Descriptor> ordered = new ArrayList<>(layers);
    ordered.sort(Comparator.comparingLong(Descriptor::size).reversed());
    return ordered;
  }

  private static Thread layerThread(Runnable task) {
    Thread thread = new Thread(task, "jsoci-convert-layer");
    thread.setDaemon(true);
    return thread;
  }

  private ConvertResult convert(
      ImageStore source,
      String sourceReference,
      ImageStore destination,
      String destinationTag,
      long start,
      String image,
      Run run)
      throws IOException {

    // Resolve the source to an image index.
    Descriptor top = source.resolve(sourceReference);
    byte[] topBytes = source.readManifest(top.digest());
    String topType =
        top.mediaType().isEmpty() ? ManifestDocuments.mediaTypeOf(topBytes) : top.mediaType();
    ImageIndex sourceIndex;
    boolean singleManifest;
    if (MediaType.isIndex(topType)) {
      sourceIndex = parseIndex(topBytes, image);
      singleManifest = false;
    } else if (MediaType.isManifest(topType)) {
      ImageManifest manifest = parseManifest(topBytes, image + " manifest " + top.digest());
      Platform platform = ManifestDocuments.platformOfConfig(readConfig(source, manifest.config()));
      Descriptor entry = Descriptor.of(topType, top.digest(), topBytes.length);
      sourceIndex = ImageRewrite.indexOfManifest(entry, platform);
      singleManifest = true;
    } else {
      throw new ConvertException(
          image
              + ": unsupported media type \""
              + topType
              + "\", expected an image manifest or index");
    }

    List<Integer> chosen = PlatformSelection.select(sourceIndex, singleManifest, options, image);
    List<Descriptor> entries = new ArrayList<>(sourceIndex.manifests());
    List<Descriptor> sociEntries = new ArrayList<>();
    List<PlatformResult> platforms = new ArrayList<>();
    Set<Integer> keptAsIs = new TreeSet<>();

    // Convert or copy each entry.
    for (int i = 0; i < entries.size(); i++) {
      Descriptor entry = entries.get(i);
      if (!PlatformSelection.isImageEntry(entry)) {
        keptAsIs.add(i);
        continue;
      }
      ImageManifest manifest =
          parseManifest(source.readManifest(entry.digest()), image + " manifest " + entry.digest());
      if (isSociIndex(manifest)) {
        keptAsIs.add(i);
        continue;
      }
      run.copyBlob(manifest.config());

      List<Descriptor> layers;
      @Nullable Descriptor sociIndex = null;
      List<String> prefetchWarnings = List.of();
      if (chosen.contains(i)) {
        String platform = entry.platform() == null ? "no platform" : entry.platform().toString();
        layers = new ArrayList<>();
        SociIndex.Builder index =
            SociIndex.builder(SociIndex.Version.V2)
                .buildToolIdentifier(options.buildToolIdentifier());
        boolean anyZtoc = false;
        List<@Nullable Digest> diffIds = diffIdsToCheck(source, manifest, image);
        List<Future<LayerReport>> reports = run.submitLayers(manifest.layers(), diffIds, platform);
        List<PrefetchFiles.@Nullable LayerFiles> prefetchFiles = new ArrayList<>();
        for (Future<LayerReport> pending : reports) {
          LayerReport report = Run.await(pending);
          layers.add(report.layer());
          prefetchFiles.add(report.prefetchFiles());
          if (report.ztoc() != null) {
            index.addZtoc(report.ztoc());
            anyZtoc = true;
          }
        }
        if (anyZtoc) {
          prefetchWarnings = run.addPrefetchArtifacts(index, layers, prefetchFiles);
          sociIndex = run.writeSociIndex(index.build());
        }
      } else {
        layers = manifest.layers();
        for (Descriptor layer : layers) {
          run.copyBlob(layer);
        }
      }

      ImageManifest rewritten =
          ImageRewrite.rewriteManifest(
              manifest, layers, sociIndex == null ? null : sociIndex.digest());
      Descriptor written = run.writeManifest(rewritten.toBytes(), MediaType.OCI_MANIFEST, null);
      entries.set(i, ImageRewrite.rewriteEntry(entry, written, rewritten.annotations()));
      if (chosen.contains(i)) {
        platforms.add(new PlatformResult(entry.platform(), written, sociIndex, prefetchWarnings));
      }
      if (sociIndex != null) {
        sociEntries.add(ImageRewrite.sociIndexEntry(sociIndex, written.digest(), entry.platform()));
      }
    }

    if (sociEntries.isEmpty()) {
      throw new ConvertException(image + ": no zTOC was built, " + describeSkips(run.reports()));
    }

    // Place the SOCI index entries, copy what stays as it was, and tag the new index.
    List<Descriptor> placed = ImageRewrite.placeSociIndexEntries(entries, sociEntries);
    for (int i : keptAsIs) {
      if (placed.get(i).equals(entries.get(i))) {
        run.copyTree(entries.get(i));
      }
    }
    ImageIndex index = ImageRewrite.rewriteIndex(sourceIndex, placed);
    Descriptor indexDescriptor =
        run.writeManifest(index.toBytes(), MediaType.OCI_INDEX, destinationTag);

    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
    return new ConvertResult(
        indexDescriptor, platforms, run.reports(), run.uploadedBytes(), elapsed);
  }

  /**
   * Returns, for each layer of {@code manifest}, the config's {@code diff_id} when the layer will
   * be decompressed and re-compressed (a zstd layer with {@code --force-gzip}), and null otherwise.
   * The config is read only when the manifest has such a layer.
   *
   * @throws ConvertException if the config's {@code rootfs.diff_ids} do not match the layers
   */
  private List<@Nullable Digest> diffIdsToCheck(
      ImageStore source, ImageManifest manifest, String image) throws IOException {
    List<@Nullable Digest> unchecked = new ArrayList<>();
    boolean anyZstd = false;
    for (Descriptor layer : manifest.layers()) {
      unchecked.add(null);
      anyZstd |= MediaType.layerCompression(layer.mediaType()) == LayerCompression.ZSTD;
    }
    if (!options.forceGzip() || !anyZstd) {
      return unchecked;
    }
    Descriptor config = manifest.config();
    String configName = image + " config " + config.digest();
    List<Digest> diffIds;
    try {
      diffIds = ManifestDocuments.diffIdsOfConfig(readConfig(source, config));
    } catch (OciFormatException e) {
      throw new ConvertException(configName + ": " + e.getMessage(), e);
    }
    if (diffIds.size() != manifest.layers().size()) {
      throw new ConvertException(
          configName
              + ": lists "
              + diffIds.size()
              + " diff_ids for the manifest's "
              + manifest.layers().size()
              + " layers");
    }
    return new ArrayList<>(diffIds);
  }

  /** Returns a phrase with the reasons every layer was skipped, grouped by reason. */
  private static String describeSkips(List<LayerReport> reports) {
    if (reports.isEmpty()) {
      return "the chosen images have no layers";
    }
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (LayerReport report : reports) {
      counts.merge(report.reason(), 1, Integer::sum);
    }
    StringBuilder text = new StringBuilder("every layer was skipped or failed: ");
    boolean first = true;
    for (Map.Entry<String, Integer> count : counts.entrySet()) {
      if (!first) {
        text.append("; ");
      }
      first = false;
      // A failure names its layer already: "layer sha256:...: ...".
      if (count.getValue() != 1 || !count.getKey().startsWith("layer ")) {
        text.append(count.getValue()).append(count.getValue() == 1 ? " layer " : " layers ");
      }
      text.append(count.getKey());
    }
    return text.toString();
  }

  private static boolean isSociIndex(ImageManifest manifest) {
    return SociIndex.Version.fromArtifactType(manifest.config().mediaType()).isPresent();
  }

  private static ImageIndex parseIndex(byte[] bytes, String source) throws ConvertException {
    try {
      return ImageIndex.parse(bytes);
    } catch (OciFormatException e) {
      throw new ConvertException(source + ": invalid image index: " + e.getMessage(), e);
    }
  }

  private static ImageManifest parseManifest(byte[] bytes, String source) throws ConvertException {
    try {
      return ImageManifest.parse(bytes);
    } catch (OciFormatException e) {
      throw new ConvertException(source + ": invalid manifest: " + e.getMessage(), e);
    }
  }

  private static byte[] readConfig(ImageStore store, Descriptor config) throws IOException {
    if (config.size() > MAX_CONFIG_BYTES) {
      throw new ConvertException(
          "image config "
              + config.digest()
              + " is "
              + config.size()
              + " bytes, the maximum is "
              + MAX_CONFIG_BYTES);
    }
    try (InputStream in = store.openBlob(config)) {
      return in.readAllBytes();
    }
  }

  /** The state of one conversion: stores, the layers done so far and the bytes sent. */
  private final class Run {
    private final ImageStore source;
    private final ImageStore destination;
    private final boolean sameStore;
    private final LayerPass layerPass;
    private final String image;
    private final ExecutorService layerThreads;

    @GuardedBy("this")
    private final Map<Digest, Future<LayerReport>> submitted = new LinkedHashMap<>();

    @GuardedBy("this")
    private final Map<Digest, LayerReport> layers = new LinkedHashMap<>();

    @GuardedBy("this")
    private final Set<Digest> copied = new HashSet<>();

    private final Set<Digest> written = new HashSet<>();

    @GuardedBy("this")
    private long uploadedBytes;

    Run(ImageStore source, ImageStore destination, String image, ExecutorService layerThreads)
        throws IOException {
      this.source = source;
      this.destination = destination;
      this.sameStore = source.name().equals(destination.name()) && destination.writesWhereItReads();
      this.layerPass = new LayerPass(source, destination, sameStore, options);
      this.image = image;
      this.layerThreads = layerThreads;
    }

    synchronized long uploadedBytes() {
      return uploadedBytes;
    }

    private synchronized void addUploaded(long bytes) {
      uploadedBytes += bytes;
    }

    /** Returns the reports of the layers done so far, in the order the layers were submitted. */
    synchronized List<LayerReport> reports() {
      List<LayerReport> reports = new ArrayList<>();
      for (Digest layer : submitted.keySet()) {
        LayerReport report = layers.get(layer);
        if (report != null) {
          reports.add(report);
        }
      }
      return reports;
    }

    /**
     * Starts processing {@code layers} on the layer threads and returns their futures in the order
     * of {@code layers}. Each layer is processed once per conversion: a layer that is shared by
     * several platforms returns the same future. The largest layers start first, so that a large
     * layer does not run alone at the end while the other layer threads have nothing left to do.
     */
    synchronized List<Future<LayerReport>> submitLayers(
        List<Descriptor> layers, List<@Nullable Digest> diffIds, String platform) {
      List<Future<LayerReport>> futures = new ArrayList<>();
      Map<Descriptor, FutureTask<LayerReport>> created = new LinkedHashMap<>();
      for (int i = 0; i < layers.size(); i++) {
        Descriptor layer = layers.get(i);
        @Nullable Digest diffId = diffIds.get(i);
        futures.add(
            submitted.computeIfAbsent(
                layer.digest(),
                digest -> {
                  FutureTask<LayerReport> task =
                      new FutureTask<>(() -> processLayer(layer, diffId, platform));
                  created.put(layer, task);
                  return task;
                }));
      }
      for (Descriptor layer : largestFirst(List.copyOf(created.keySet()))) {
        layerThreads.execute(created.get(layer));
      }
      return futures;
    }

    /** Returns the report of a submitted layer, unwrapping the failure of its pass. */
    static LayerReport await(Future<LayerReport> pending) throws IOException {
      try {
        return pending.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while converting layers");
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof IOException io) {
          throw io;
        }
        if (cause instanceof RuntimeException runtime) {
          throw runtime;
        }
        throw new IOException(cause);
      }
    }

    /** Processes a layer and reports it to the listener; runs on a layer thread. */
    private LayerReport processLayer(Descriptor layer, @Nullable Digest diffId, String platform)
        throws IOException {
      LayerReport report;
      try {
        report = layerPass.process(layer, diffId, platform);
      } catch (ConvertException e) {
        throw e;
      } catch (IOException e) {
        throw new ConvertException(
            image + ": layer " + layer.digest() + " (" + platform + "): " + e.getMessage(), e);
      }
      synchronized (this) {
        layers.put(layer.digest(), report);
        copied.add(report.layer().digest());
        uploadedBytes += report.uploadedBytes();
        listener.layerDone(report, layers.size());
      }
      return report;
    }

    /** Copies a blob to the destination once per conversion. */
    void copyBlob(Descriptor blob) throws IOException {
      synchronized (this) {
        if (sameStore || !copied.add(blob.digest())) {
          return;
        }
      }
      long bytes = layerPass.copy(blob);
      synchronized (this) {
        uploadedBytes += bytes;
      }
    }

    /**
     * Writes the prefetch artifacts of one image and adds them to its index: for each layer, the
     * spans of the prefetch files whose copy a container reads is in that layer. Returns a warning
     * for each file that gets no spans, such as {@code prefetch file /x is a directory}.
     *
     * @param layers the image's layers in manifest order, as converted
     * @param prefetchFiles per layer, its files, or null for a layer without a zTOC
     */
    List<String> addPrefetchArtifacts(
        SociIndex.Builder index,
        List<Descriptor> layers,
        List<PrefetchFiles.@Nullable LayerFiles> prefetchFiles)
        throws IOException {
      if (options.prefetchFiles().isEmpty()) {
        return List.of();
      }
      PrefetchFiles.Resolution resolution =
          PrefetchFiles.resolve(prefetchFiles, options.prefetchFiles());
      for (int i = 0; i < layers.size(); i++) {
        PrefetchArtifact artifact = resolution.artifacts().get(i);
        if (artifact == null) {
          continue;
        }
        byte[] bytes = artifact.toBytes();
        Descriptor blob =
            Descriptor.of(MediaType.SOCI_PREFETCH, Digest.sha256Of(bytes), bytes.length);
        if (destination.writeBlob(blob, bytes)) {
          addUploaded(bytes.length);
        }
        index.addPrefetch(
            SociIndex.prefetchDescriptor(blob.digest(), blob.size(), layers.get(i).digest()));
      }
      List<String> warnings = new ArrayList<>();
      for (PrefetchFiles.Problem problem : resolution.problems()) {
        warnings.add("prefetch file /" + problem.path() + " " + problem.reason());
      }
      return warnings;
    }

    /** Writes the SOCI index and its {@code {}} config blob; returns the index's descriptor. */
    Descriptor writeSociIndex(SociIndex index) throws IOException {
      Descriptor config = SociIndex.configDescriptor(SociIndex.Version.V2);
      if (destination.writeBlob(config, new byte[] {'{', '}'})) {
        addUploaded(config.size());
      }
      return writeManifest(index.toBytes(), MediaType.OCI_MANIFEST, null);
    }

    /** Writes a manifest or index once per conversion and returns its descriptor. */
    Descriptor writeManifest(byte[] bytes, String mediaType, @Nullable String tag)
        throws IOException {
      Descriptor descriptor = Descriptor.of(mediaType, Digest.sha256Of(bytes), bytes.length);
      if (tag == null && written.contains(descriptor.digest())) {
        return descriptor;
      }
      boolean present = destination.hasManifest(descriptor.digest());
      if (!present || tag != null) {
        destination.writeManifest(descriptor, bytes, tag);
      }
      if (!present) {
        addUploaded(bytes.length);
      }
      written.add(descriptor.digest());
      return descriptor;
    }

    /**
     * Copies an entry that stays as it was, with everything it refers to: the children of an index,
     * the config and layers of a manifest.
     */
    void copyTree(Descriptor entry) throws IOException {
      if (sameStore || destination.hasManifest(entry.digest())) {
        return;
      }
      byte[] bytes = source.readManifest(entry.digest());
      String mediaType =
          entry.mediaType().isEmpty() ? ManifestDocuments.mediaTypeOf(bytes) : entry.mediaType();
      if (MediaType.isIndex(mediaType)) {
        for (Descriptor child : parseIndex(bytes, image + " index " + entry.digest()).manifests()) {
          copyTree(child);
        }
      } else {
        ImageManifest manifest = parseManifest(bytes, image + " manifest " + entry.digest());
        copyBlob(manifest.config());
        for (Descriptor layer : manifest.layers()) {
          copyBlob(layer);
        }
      }
      destination.writeManifest(
          Descriptor.of(mediaType, entry.digest(), bytes.length), bytes, null);
      addUploaded(bytes.length);
    }
  }
}
