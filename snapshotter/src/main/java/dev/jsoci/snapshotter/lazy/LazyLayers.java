package dev.jsoci.snapshotter.lazy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.jsoci.config.PrefetchConfig;
import dev.jsoci.fetcher.discovery.DiscoveredIndex;
import dev.jsoci.fetcher.discovery.SociIndexDiscovery;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.span.RegistryBlobRangeSource;
import dev.jsoci.fetcher.span.SpanEngine;
import dev.jsoci.fetcher.span.SpanManager;
import dev.jsoci.fs.FileSystemOptions;
import dev.jsoci.fs.LayerFileSystem;
import dev.jsoci.fs.LayerTree;
import dev.jsoci.fs.LowerLayers;
import dev.jsoci.fs.fuse.FuseMount;
import dev.jsoci.fs.fuse.MountOptions;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.SociAnnotations;
import dev.jsoci.oci.SociIndex;
import dev.jsoci.ztoc.TocIndex;
import dev.jsoci.ztoc.Zinfos;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocCodec;
import dev.jsoci.ztoc.ZtocFormatException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the zTOCs of image layers and mounts those layers lazily through FUSE.
 *
 * <p>SOCI indexes are content-addressed, so they are kept in a small cache by digest, and image
 * manifests come from {@link ImageManifests}: preparing the layers of one image resolves its
 * manifest and index once.
 *
 * <p>The first lookup of a layer of an image with a SOCI index starts fetching the zTOCs of the
 * image's other layers in the background, even when that layer has no zTOC itself. Their lookups
 * then need no registry round trip each. A mount starts fetching the spans that the layer's
 * prefetch artifact lists, when the index has one and prefetching is on. Safe for concurrent use.
 * Closing it stops those background fetches.
 */
public final class LazyLayers implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LazyLayers.class);

  private static final int CACHED_DOCUMENTS = 256;

  /**
   * How long an image counts as mounted already, so that the mounts of its other layers do not
   * silence the background fetcher again. containerd prepares an image's layers within seconds.
   */
  private static final Duration SILENCED_IMAGE_EXPIRY = Duration.ofMinutes(10);

  private final RegistryClient client;
  private final SpanEngine engine;
  private final SociIndexDiscovery discovery;
  private final FileSystemOptions fileSystemOptions;
  private final Function<String, MountOptions> mountOptions;
  private final ImageManifests manifests;
  private final Cache<Digest, SociIndex> indexes =
      Caffeine.newBuilder().maximumSize(CACHED_DOCUMENTS).build();

  /** Images with a layer mounted lately, whose first mount silenced the background fetcher. */
  private final Cache<ImageRef, Boolean> silencedImages =
      Caffeine.newBuilder()
          .maximumSize(CACHED_DOCUMENTS)
          .expireAfterWrite(SILENCED_IMAGE_EXPIRY)
          .build();

  private final ZtocReads ztocReads = new ZtocReads();
  private final ZtocPrefetcher ztocs;
  private final @Nullable ArtifactPrefetcher artifacts;

  /**
   * @param mountOptions the FUSE mount options of a layer, given the layer's digest as fsname
   * @param manifests the image manifests, shared with whatever else reads them for the same pulls
   * @param prefetch whether mounts fetch the spans of prefetch artifacts, and for how many layers
   *     at once
   */
  public LazyLayers(
      RegistryClient client,
      SpanEngine engine,
      SociIndexDiscovery discovery,
      FileSystemOptions fileSystemOptions,
      Function<String, MountOptions> mountOptions,
      ImageManifests manifests,
      PrefetchConfig prefetch) {
    this.client = client;
    this.engine = engine;
    this.discovery = discovery;
    this.fileSystemOptions = fileSystemOptions;
    this.mountOptions = mountOptions;
    this.manifests = manifests;
    this.ztocs =
        new ZtocPrefetcher(
            new ZtocPrefetcher.ZtocReader() {
              @Override
              public byte[] read(ImageRef image, Descriptor descriptor) throws IOException {
                return readZtoc(image, descriptor);
              }

              @Override
              public CheckedZtoc decode(byte[] bytes, Descriptor descriptor) throws IOException {
                return decodeZtoc(bytes, descriptor);
              }
            },
            ztocReads);
    this.artifacts =
        prefetch.enable()
            ? new ArtifactPrefetcher(client, prefetch.maxConcurrency(), ztocReads)
            : null;
  }

  /**
   * The result of looking up a layer's zTOC.
   *
   * @param indexFound whether the image has a SOCI index
   * @param layer the layer with its zTOC, empty when there is no index or it has no zTOC for the
   *     layer
   */
  public record Lookup(boolean indexFound, Optional<LazyLayer> layer) {}

  /**
   * Returns the layer {@code layerDigest} of an image with its zTOC, or empty when the image has no
   * SOCI index or its index has no zTOC for that layer.
   *
   * @param manifestDigest the image manifest, or null to resolve {@code image} for the platform
   * @param indexDigest the SOCI index to use, or null to discover it
   * @throws IOException if a registry read fails, a document is invalid, or the layer is not in the
   *     image manifest
   */
  public Optional<LazyLayer> find(
      ImageRef image,
      @Nullable Digest manifestDigest,
      @Nullable Digest indexDigest,
      Digest layerDigest)
      throws IOException {
    return lookup(image, manifestDigest, indexDigest, layerDigest).layer();
  }

  /**
   * Looks up the zTOC of the layer {@code layerDigest} like {@link #find}, and also returns whether
   * the image has a SOCI index at all.
   *
   * @throws IOException as {@link #find} does
   */
  public Lookup lookup(
      ImageRef image,
      @Nullable Digest manifestDigest,
      @Nullable Digest indexDigest,
      Digest layerDigest)
      throws IOException {
    Located located = locate(image, manifestDigest, indexDigest, layerDigest);
    if (located == null) {
      return new Lookup(false, Optional.empty());
    }
    if (located.ztoc() == null) {
      ztocs.prefetchIndex(image, located.indexDigest(), located.ztocsInLayerOrder());
      return new Lookup(true, Optional.empty());
    }
    CheckedZtoc checked =
        ztocs.get(image, located.indexDigest(), located.ztoc(), located.ztocsInLayerOrder());
    @Nullable Descriptor prefetch =
        artifacts == null ? null : located.index().prefetchFor(layerDigest).orElse(null);
    return new Lookup(
        true,
        Optional.of(
            new LazyLayer(
                image,
                located.layer(),
                checked.ztoc(),
                checked.tree(),
                prefetch,
                SociIndex.xattrsDisabled(located.ztoc()))));
  }

  /**
   * Looks up whether the SOCI index of the image lists a zTOC for the layer {@code layerDigest},
   * like {@link #lookup} but without waiting for the zTOC. Starts reading the zTOCs of the image's
   * layers in the background, so that a {@link #lookup} of the layer soon after finds its zTOC read
   * or on the way.
   *
   * @throws IOException as {@link #find} does
   */
  public ZtocPresence findZtoc(
      ImageRef image,
      @Nullable Digest manifestDigest,
      @Nullable Digest indexDigest,
      Digest layerDigest)
      throws IOException {
    Located located = locate(image, manifestDigest, indexDigest, layerDigest);
    if (located == null) {
      return ZtocPresence.NO_INDEX;
    }
    ztocs.prefetchIndex(image, located.indexDigest(), located.ztocsInLayerOrder());
    return located.ztoc() == null ? ZtocPresence.NO_ZTOC : ZtocPresence.LISTED;
  }

  /** Whether an image has a SOCI index, and whether that index lists a zTOC for a layer. */
  public enum ZtocPresence {
    /** The image has no SOCI index. */
    NO_INDEX,
    /** The image's SOCI index has no zTOC for the layer. */
    NO_ZTOC,
    /** The image's SOCI index lists a zTOC for the layer. */
    LISTED
  }

  /** A layer in its image manifest and SOCI index; {@code ztoc} is null when it has none. */
  private record Located(
      Descriptor layer,
      Digest indexDigest,
      SociIndex index,
      @Nullable Descriptor ztoc,
      List<Descriptor> ztocsInLayerOrder) {}

  /** Returns the layer in its manifest and SOCI index, or null when the image has no index. */
  private @Nullable Located locate(
      ImageRef image,
      @Nullable Digest manifestDigest,
      @Nullable Digest indexDigest,
      Digest layerDigest)
      throws IOException {
    ImageManifests.ManifestWithLayer found = manifests.forLayer(image, manifestDigest, layerDigest);
    ImageManifest imageManifest = found.manifest();
    // Passing the cached manifest spares a registry round trip for every layer of the image.
    Optional<DiscoveredIndex> discovered =
        discovery.discover(image, found.digest(), indexDigest, imageManifest);
    if (discovered.isEmpty()) {
      return null;
    }
    Digest foundIndex = discovered.get().digest();
    SociIndex index = index(image, foundIndex);
    return new Located(
        found.layer(),
        foundIndex,
        index,
        index.ztocFor(layerDigest).orElse(null),
        ztocsInLayerOrder(imageManifest, index));
  }

  /**
   * Reads the bytes of a zTOC.
   *
   * @throws ZtocFormatException if the descriptor gives more than {@link ZtocCodec#MAX_ZTOC_BYTES}
   */
  private byte[] readZtoc(ImageRef image, Descriptor descriptor) throws IOException {
    ZtocCodec.checkSize(descriptor.size(), descriptor.digest().toString());
    long startNanos = System.nanoTime();
    byte[] bytes;
    // containerd prepares the next layer only after this zTOC is read, so background fetches wait.
    try (SpanEngine.ForegroundWork pull = engine.beginForegroundWork()) {
      bytes = client.readBlob(image, descriptor);
    }
    LOG.atDebug()
        .addKeyValue("ztoc", descriptor.digest().toString())
        .addKeyValue("bytes", bytes.length)
        .addKeyValue("read_ms", (System.nanoTime() - startNanos) / 1_000_000)
        .log("read zTOC");
    return bytes;
  }

  /**
   * Decodes and checks a zTOC read by {@link #readZtoc}, and builds the layer's file tree from it.
   * Its entries must lie inside the layer and form a valid tree, and its checkpoints must lie
   * inside the layer blob and agree with its span count. A zTOC that fails is an error here, before
   * anything is mounted, so that the caller can pull the layer without it.
   *
   * @throws ZtocFormatException if the zTOC is invalid
   * @throws dev.jsoci.fs.InvalidLayerException if the entries do not form a valid tree
   */
  private CheckedZtoc decodeZtoc(byte[] bytes, Descriptor descriptor) throws IOException {
    String source = descriptor.digest().toString();
    long startNanos = System.nanoTime();
    Ztoc ztoc = ZtocCodec.decode(bytes, source);
    // The checks name the zTOC in their messages, and the tree names the layer, as a mount does.
    TocIndex entries = TocIndex.of(ztoc, source);
    Zinfos.of(ztoc, source);
    String layer = descriptor.annotation(SociAnnotations.IMAGE_LAYER_DIGEST);
    CheckedZtoc checked =
        new CheckedZtoc(ztoc, LayerTree.of(entries, layer != null ? layer : source));
    LOG.atDebug()
        .addKeyValue("ztoc", source)
        .addKeyValue("decode_ms", (System.nanoTime() - startNanos) / 1_000_000)
        .log("decoded zTOC");
    return checked;
  }

  /**
   * Mounts {@code layer} at {@code mountPoint}, an existing empty directory, over the layers {@code
   * lowers}, and returns once the mount serves reads.
   *
   * @param lowers the layers the mount is stacked on, for the parent directories that the layer
   *     leaves out
   * @throws IOException if the layer's TOC is invalid or the mount fails; nothing stays mounted or
   *     open then
   */
  public MountedLayer mount(LazyLayer layer, Path mountPoint, LowerLayers lowers)
      throws IOException {
    Digest digest = layer.layer().digest();
    LayerTree tree = layer.treeOver(lowers);
    // The first mount of an image pauses the background fetcher for [background_fetch]
    // silence_period_msec, so that the container's start-up reads have the link to themselves.
    if (silencedImages.asMap().putIfAbsent(layer.repository(), Boolean.TRUE) == null) {
      engine.silenceBackground();
    }
    SpanManager spans =
        engine.openLayer(
            digest,
            layer.ztoc(),
            RegistryBlobRangeSource.of(client, layer.repository(), layer.layer()));
    try {
      if (artifacts != null && layer.prefetch() != null) {
        artifacts.start(layer.repository(), layer.prefetch(), spans);
      }
      FileSystemOptions options =
          layer.xattrsDisabled()
              ? fileSystemOptions.toBuilder().xattrsDisabled(true).build()
              : fileSystemOptions;
      LayerFileSystem fileSystem = new LayerFileSystem(tree, new SpanContentReader(spans), options);
      long startNanos = System.nanoTime();
      FuseMount mount;
      try {
        mount = FuseMount.mount(fileSystem, mountPoint, mountOptions.apply(digest.toString()));
      } catch (IOException | RuntimeException e) {
        fileSystemOptions.listener().mountFailed();
        throw e;
      }
      fileSystemOptions.listener().mounted(System.nanoTime() - startNanos);
      return new MountedLayer(digest, mount, spans);
    } catch (IOException | RuntimeException e) {
      spans.close();
      throw e;
    }
  }

  /**
   * Returns the zTOCs of the image's layers in manifest order, the order in which containerd
   * prepares them.
   */
  private static List<Descriptor> ztocsInLayerOrder(ImageManifest manifest, SociIndex index) {
    List<Descriptor> ordered = new ArrayList<>();
    for (Descriptor layer : manifest.layers()) {
      index.ztocFor(layer.digest()).ifPresent(ordered::add);
    }
    return ordered;
  }

  /** Stops the background zTOC fetches and prefetches; lookups waiting for one of them fail. */
  @Override
  public void close() {
    ztocs.close();
    if (artifacts != null) {
      artifacts.close();
    }
  }

  /** Waits until the background zTOC fetches have ended after {@link #close}; for tests. */
  boolean awaitPrefetchStopped(Duration timeout) throws InterruptedException {
    return ztocs.awaitTermination(timeout);
  }

  private SociIndex index(ImageRef image, Digest digest) throws IOException {
    SociIndex cached = indexes.getIfPresent(digest);
    if (cached != null) {
      return cached;
    }
    SociIndex index = SociIndex.parse(client.fetchManifest(image, digest).bytes());
    indexes.put(digest, index);
    return index;
  }
}
