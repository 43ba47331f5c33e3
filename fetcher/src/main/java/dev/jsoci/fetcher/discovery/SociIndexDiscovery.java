package dev.jsoci.fetcher.discovery;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.jsoci.fetcher.registry.ManifestContent;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.OciFormatException;
import dev.jsoci.oci.SociAnnotations;
import dev.jsoci.oci.SociIndex;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocCodec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the SOCI index of an image manifest and fetches the index with its zTOCs.
 *
 * <h2>Search order</h2>
 *
 * <ol>
 *   <li>An index digest the caller gives (the snapshot label) is used as it is.
 *   <li>With both index versions disabled there is no index.
 *   <li>v2 (on by default): the image manifest's {@code com.amazon.soci.index-digest} annotation.
 *       Without it the search goes on; a failed fetch stops it with the failure.
 *   <li>v1 (off by default): the first referrer of the manifest whose artifact type is {@code
 *       application/vnd.amazon.soci.index.v1+json}, from the referrers API, or from the index
 *       tagged {@code sha256-<hex>} when the registry has no referrers API.
 * </ol>
 *
 * <p>A search that ends without an index is remembered per repository and manifest digest for
 * {@link DiscoveryOptions#noIndexTtl()}, so pulls of an image without an index do not ask the
 * registry for every layer. Failures are never remembered: the next call searches again. A v2
 * annotation that names a missing index fails in {@link #fetchArtifacts} and does not fall back to
 * v1.
 *
 * <p>Thread-safe; every method blocks on the registry.
 */
public final class SociIndexDiscovery {
  private static final Logger logger = LoggerFactory.getLogger(SociIndexDiscovery.class);

  /** Tag schema limits of the OCI distribution spec: algorithm and encoded part of the tag. */
  private static final int MAX_TAG_ALGORITHM_CHARS = 32;

  private static final int MAX_TAG_ENCODED_CHARS = 64;

  private final IndexRegistry registry;
  private final DiscoveryOptions options;
  private final Executor executor;
  private final Cache<String, Boolean> withoutIndex;

  /**
   * @param executor fetches the zTOCs of an index in parallel; a direct executor fetches them one
   *     after another on the calling thread
   */
  public SociIndexDiscovery(IndexRegistry registry, DiscoveryOptions options, Executor executor) {
    this.registry = registry;
    this.options = options;
    this.executor = executor;
    this.withoutIndex =
        Caffeine.newBuilder()
            .expireAfterWrite(options.noIndexTtl())
            .maximumSize(options.maxRememberedImages())
            .ticker(options.ticker())
            .executor(Runnable::run)
            .build();
  }

  /**
   * Returns the SOCI index of the image manifest {@code manifestDigest} in the repository of {@code
   * repository}, or empty when it has none.
   *
   * @param labelIndexDigest an index digest given by the caller, used without asking the registry;
   *     null to search
   * @throws IOException if a registry read fails or the manifest or a referrer list is invalid;
   *     nothing is remembered, so the next call searches again
   */
  public Optional<DiscoveredIndex> discover(
      ImageRef repository, Digest manifestDigest, @Nullable Digest labelIndexDigest)
      throws IOException {
    return discover(repository, manifestDigest, labelIndexDigest, null);
  }

  /**
   * Returns the SOCI index as {@link #discover(ImageRef, Digest, Digest)} does, reading the v2
   * annotation from {@code manifest} when the caller has already fetched it, instead of fetching
   * the manifest again.
   *
   * @param manifest the parsed image manifest {@code manifestDigest}, or null to fetch it
   */
  public Optional<DiscoveredIndex> discover(
      ImageRef repository,
      Digest manifestDigest,
      @Nullable Digest labelIndexDigest,
      @Nullable ImageManifest manifest)
      throws IOException {
    if (labelIndexDigest != null) {
      logger.debug("using provided soci index digest digest={}", labelIndexDigest);
      return Optional.of(new DiscoveredIndex(labelIndexDigest, IndexSource.LABEL));
    }
    if (!options.v2Enabled() && !options.v1Enabled()) {
      logger.debug("all lazy pull modes are disabled manifest={}", manifestDigest);
      return Optional.empty();
    }

    String key = repository.name() + "@" + manifestDigest;
    if (withoutIndex.getIfPresent(key) != null) {
      logger.trace("soci index known to be missing manifest={}", manifestDigest);
      return Optional.empty();
    }
    Optional<DiscoveredIndex> found = search(repository, manifestDigest, manifest);
    if (found.isEmpty()) {
      logger.debug("no soci index found manifest={}", manifestDigest);
      withoutIndex.put(key, Boolean.TRUE);
    }
    return found;
  }

  private Optional<DiscoveredIndex> search(
      ImageRef repository, Digest manifestDigest, @Nullable ImageManifest known)
      throws IOException {
    if (options.v2Enabled()) {
      ImageManifest manifest =
          known != null
              ? known
              : ImageManifest.parse(registry.fetchManifest(repository, manifestDigest).bytes());
      String annotation = manifest.annotations().get(SociAnnotations.INDEX_DIGEST);
      if (annotation != null && !annotation.isEmpty()) {
        Digest digest =
            parseDigest(
                annotation,
                "annotation " + SociAnnotations.INDEX_DIGEST + " of manifest " + manifestDigest);
        logger.debug("using soci v2 index annotation digest={}", digest);
        return Optional.of(new DiscoveredIndex(digest, IndexSource.V2_ANNOTATION));
      }
    }

    if (options.v1Enabled()) {
      String artifactType = MediaType.SOCI_INDEX_V1;
      Optional<ImageIndex> referrers =
          registry.fetchReferrers(repository, manifestDigest, artifactType);
      if (referrers.isPresent()) {
        return firstOfType(referrers.get(), artifactType, IndexSource.V1_REFERRERS);
      }
      Optional<ManifestContent> tagged =
          registry.fetchTagged(repository, referrersTag(manifestDigest));
      if (tagged.isPresent()) {
        ImageIndex index = ImageIndex.parse(tagged.get().bytes());
        return firstOfType(index, artifactType, IndexSource.V1_TAG_SCHEMA);
      }
    }
    return Optional.empty();
  }

  /** Returns the first listed manifest of the artifact type; registries may not filter. */
  private static Optional<DiscoveredIndex> firstOfType(
      ImageIndex referrers, String artifactType, IndexSource source) {
    for (Descriptor referrer : referrers.manifests()) {
      if (referrer.artifactType().equals(artifactType)) {
        logger.debug("using soci v1 index digest={} source={}", referrer.digest(), source);
        return Optional.of(new DiscoveredIndex(referrer.digest(), source));
      }
    }
    return Optional.empty();
  }

  /**
   * Returns the tag under which the OCI tag schema lists the referrers of {@code subject}: the
   * algorithm, a dash and the encoded part, cut to 32 and 64 characters, with characters a tag
   * cannot hold replaced by dashes.
   */
  static String referrersTag(Digest subject) {
    String algorithm = cut(subject.algorithm(), MAX_TAG_ALGORITHM_CHARS);
    String encoded = cut(subject.encoded(), MAX_TAG_ENCODED_CHARS);
    return (algorithm + "-" + encoded).replaceAll("[^a-zA-Z0-9_.-]", "-");
  }

  private static String cut(String text, int maxChars) {
    return text.length() <= maxChars ? text : text.substring(0, maxChars);
  }

  /**
   * Fetches the index and all its zTOCs, in parallel on the executor, each checked against its
   * digest and size. Prefetch artifacts listed in the index are not fetched.
   *
   * @throws OciFormatException if the index is not a SOCI index, or a zTOC descriptor lacks a valid
   *     layer digest annotation
   * @throws dev.jsoci.ztoc.ZtocFormatException if a zTOC cannot be decoded
   * @throws IOException if a fetch fails
   */
  public SociArtifacts fetchArtifacts(ImageRef repository, DiscoveredIndex found)
      throws IOException {
    logger.debug("fetching SOCI artifacts using index descriptor digest={}", found.digest());
    ManifestContent content = registry.fetchManifest(repository, found.digest());
    SociIndex index = SociIndex.parse(content.bytes());

    // Start every zTOC fetch, then collect them in index order so that a later zTOC of the same
    // layer replaces an earlier one, as SociIndex.ztocFor picks it.
    List<Digest> layers = new ArrayList<>();
    List<CompletableFuture<Ztoc>> fetches = new ArrayList<>();
    for (Descriptor descriptor : index.ztocs()) {
      layers.add(layerOf(found.digest(), descriptor));
      fetches.add(CompletableFuture.supplyAsync(() -> fetchZtoc(repository, descriptor), executor));
    }
    Map<Digest, Ztoc> ztocs = new LinkedHashMap<>();
    for (int i = 0; i < fetches.size(); i++) {
      ztocs.put(layers.get(i), await(fetches.get(i)));
    }
    return new SociArtifacts(found.digest(), index, ztocs);
  }

  private Ztoc fetchZtoc(ImageRef repository, Descriptor descriptor) {
    try {
      String source = descriptor.digest().toString();
      ZtocCodec.checkSize(descriptor.size(), source);
      byte[] bytes = registry.readBlob(repository, descriptor);
      return ZtocCodec.decode(bytes, source);
    } catch (IOException e) {
      throw new CompletionException(e);
    }
  }

  private static Ztoc await(CompletableFuture<Ztoc> fetch) throws IOException {
    try {
      return fetch.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while fetching zTOCs");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IOException("zTOC fetch failed", cause);
    }
  }

  private static Digest layerOf(Digest indexDigest, Descriptor ztoc) throws OciFormatException {
    String layer = ztoc.annotation(SociAnnotations.IMAGE_LAYER_DIGEST);
    if (layer == null) {
      throw new OciFormatException(
          "soci index "
              + indexDigest
              + ": ztoc "
              + ztoc.digest()
              + " has no annotation "
              + SociAnnotations.IMAGE_LAYER_DIGEST);
    }
    return parseDigest(
        layer,
        "soci index "
            + indexDigest
            + ": annotation "
            + SociAnnotations.IMAGE_LAYER_DIGEST
            + " of ztoc "
            + ztoc.digest());
  }

  private static Digest parseDigest(String value, String where) throws OciFormatException {
    try {
      return Digest.parse(value);
    } catch (IllegalArgumentException e) {
      throw new OciFormatException(where + ": " + e.getMessage(), e);
    }
  }
}
