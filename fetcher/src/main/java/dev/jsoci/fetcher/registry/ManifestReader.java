package dev.jsoci.fetcher.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.OciFormatException;
import dev.jsoci.oci.Platform;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * Fetches manifests and image indexes, checks their digests, and chooses a platform's manifest from
 * an index.
 *
 * <p>A reference with a digest is fetched from the hosts with the {@code pull} capability and
 * checked against that digest. A tag is resolved on the hosts with {@code resolve}, and its digest
 * is computed from the bytes and checked against the {@code Docker-Content-Digest} header when the
 * registry sends one.
 */
final class ManifestReader {
  /** The media types the client reads: OCI and Docker manifests and indexes. */
  static final String ACCEPT =
      String.join(
          ", ",
          MediaType.OCI_MANIFEST,
          MediaType.OCI_INDEX,
          MediaType.DOCKER_MANIFEST,
          MediaType.DOCKER_MANIFEST_LIST);

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The maximum number of pages of one referrers list that are read. */
  static final int MAX_REFERRER_PAGES = 32;

  private final RegistryOptions options;
  private final HostsDirectory hosts;
  private final Transport transport;

  ManifestReader(RegistryOptions options, HostsDirectory hosts, Transport transport) {
    this.options = options;
    this.hosts = hosts;
    this.transport = transport;
  }

  /** Fetches the manifest or index that {@code reference} names, by digest when it has one. */
  ManifestContent fetch(ImageRef reference) throws IOException {
    Digest digest = reference.digest();
    Capability capability = digest != null ? Capability.PULL : Capability.RESOLVE;
    List<RegistryEndpoint> endpoints = hosts.endpointsFor(reference.registryHost(), capability);
    return EndpointFallback.tryInOrder(
        hosts,
        endpoints,
        endpoint -> fetchFrom(endpoint, reference, reference.manifestReference(), digest));
  }

  /**
   * Returns whether the host that pushes to the registry of {@code repository} go to has the
   * manifest or index {@code digest}.
   */
  boolean existsAtPushHost(ImageRef repository, Digest digest) throws IOException {
    RegistryEndpoint endpoint = hosts.pushEndpoint(repository.registryHost());
    ImageRef byDigest =
        new ImageRef(repository.registryHost(), repository.repository(), null, digest);
    try {
      fetchFrom(endpoint, byDigest, byDigest.manifestReference(), digest);
      return true;
    } catch (ManifestNotFoundException e) {
      return false;
    }
  }

  /** Fetches the manifest or index {@code digest} of the repository of {@code repository}. */
  ManifestContent fetch(ImageRef repository, Digest digest) throws IOException {
    ImageRef byDigest =
        new ImageRef(repository.registryHost(), repository.repository(), null, digest);
    return fetch(byDigest);
  }

  /**
   * Fetches the referrers of {@code subject} whose artifact type is {@code artifactType} from the
   * OCI referrers API, following {@code Link: <...>; rel="next"} pages, at most {@link
   * #MAX_REFERRER_PAGES}. A registry that does not apply the filter (no {@code OCI-Filters-Applied:
   * artifactType}) gets it applied here. Returns empty when the registry responds with 404, which
   * means it has no referrers API.
   *
   * @throws OciFormatException if a page is not an image index
   */
  Optional<ImageIndex> fetchReferrers(ImageRef repository, Digest subject, String artifactType)
      throws IOException {
    List<RegistryEndpoint> endpoints =
        hosts.endpointsFor(repository.registryHost(), Capability.RESOLVE);
    return EndpointFallback.tryInOrder(
        hosts,
        endpoints,
        endpoint -> fetchReferrersFrom(endpoint, repository, subject, artifactType));
  }

  private Optional<ImageIndex> fetchReferrersFrom(
      RegistryEndpoint endpoint, ImageRef repository, Digest subject, String artifactType)
      throws IOException {
    List<Descriptor> referrers = new ArrayList<>();
    HttpUrl url = endpoint.referrersUrl(repository.repository(), subject, artifactType);
    String description = "referrers of " + subject + " in " + repository;
    for (int page = 1; url != null; page++) {
      if (page > MAX_REFERRER_PAGES) {
        throw new RegistryException(
            description + " has more than " + MAX_REFERRER_PAGES + " pages");
      }
      Request request =
          new Request.Builder().url(url).header("Accept", MediaType.OCI_INDEX).get().build();
      Transport.Exchange exchange =
          new Transport.Exchange(
              repository.registryHost(),
              endpoint,
              request,
              Scopes.pull(repository.repository()),
              true,
              false);
      ReferrersPage result =
          transport.execute(exchange, response -> readReferrers(response, endpoint, description));
      if (result == null) {
        return Optional.empty();
      }
      ImageIndex index;
      try {
        index = ImageIndex.parse(result.bytes());
      } catch (OciFormatException e) {
        throw new OciFormatException(description + ": " + e.getMessage(), e);
      }
      for (Descriptor referrer : index.manifests()) {
        if (result.filtered() || referrer.artifactType().equals(artifactType)) {
          referrers.add(referrer);
        }
      }
      url = result.next();
    }
    return Optional.of(new ImageIndex(MediaType.OCI_INDEX, "", referrers, null, Map.of()));
  }

  /**
   * One page of referrers.
   *
   * @param bytes the image index of the page
   * @param filtered whether the registry applied the artifact type filter
   * @param next the next page, or null
   */
  private record ReferrersPage(byte[] bytes, boolean filtered, @Nullable HttpUrl next) {}

  /** Reads a referrers page; null when the registry has no referrers API. */
  private @Nullable ReferrersPage readReferrers(
      Response response, RegistryEndpoint endpoint, String description) throws IOException {
    if (response.code() == 404) {
      response.close();
      return null;
    }
    if (response.code() != 200) {
      throw ErrorResponses.failure("cannot read " + description, response, endpoint.authority());
    }
    byte[] bytes;
    try (response) {
      bytes = readLimited(response, description);
    }
    boolean filtered = false;
    for (String applied : response.headers("OCI-Filters-Applied")) {
      for (String filter : applied.split(",")) {
        filtered |= filter.strip().equals("artifactType");
      }
    }
    return new ReferrersPage(bytes, filtered, nextPage(response));
  }

  /**
   * Returns the {@code rel="next"} target of the response's {@code Link} headers, or null when
   * there is none or it is on another host.
   */
  private static @Nullable HttpUrl nextPage(Response response) {
    for (String link : response.headers("Link")) {
      int open = link.indexOf('<');
      int close = link.indexOf('>', open + 1);
      if (open < 0
          || close < 0
          || !link.substring(close).replace(" ", "").contains("rel=\"next\"")) {
        continue;
      }
      HttpUrl current = response.request().url();
      HttpUrl next = current.resolve(link.substring(open + 1, close));
      // Credentials go with the request, so a page on another host is not followed.
      if (next != null
          && next.scheme().equals(current.scheme())
          && next.host().equals(current.host())
          && next.port() == current.port()) {
        return next;
      }
    }
    return null;
  }

  /**
   * Resolves {@code reference} to the manifest for {@code platform}: the manifest itself, or the
   * first entry of the index whose platform matches ({@link Platform#matches}).
   */
  ResolvedImage resolve(ImageRef reference, Platform platform) throws IOException {
    ManifestContent top = fetch(reference);
    String mediaType = top.descriptor().mediaType();
    if (MediaType.isManifest(mediaType)) {
      return new ResolvedImage(reference, null, null, top, ImageManifest.parse(top.bytes()));
    }
    if (!MediaType.isIndex(mediaType)) {
      throw new RegistryException(
          "manifest " + reference + " has the unsupported media type \"" + mediaType + "\"");
    }

    ImageIndex index = ImageIndex.parse(top.bytes());
    Descriptor chosen = choose(reference, index, platform);
    ManifestContent child = fetch(reference, chosen.digest());
    if (!MediaType.isManifest(child.descriptor().mediaType())) {
      throw new RegistryException(
          "manifest "
              + chosen.digest()
              + " for platform "
              + platform
              + " in index "
              + reference
              + " has the media type \""
              + child.descriptor().mediaType()
              + "\", expected an image manifest");
    }
    return new ResolvedImage(reference, top, index, child, ImageManifest.parse(child.bytes()));
  }

  private static Descriptor choose(ImageRef reference, ImageIndex index, Platform platform)
      throws ManifestNotFoundException {
    for (Descriptor manifest : index.manifests()) {
      Platform candidate = manifest.platform();
      if (candidate != null && platform.matches(candidate)) {
        return manifest;
      }
    }
    String available =
        index.manifests().stream()
            .map(Descriptor::platform)
            .filter(candidate -> candidate != null)
            .map(String::valueOf)
            .distinct()
            .collect(Collectors.joining(", "));
    throw new ManifestNotFoundException(
        "no manifest for platform "
            + platform
            + " in index "
            + reference
            + (available.isEmpty()
                ? " (its entries name no platform)"
                : " (found " + available + ")"));
  }

  private ManifestContent fetchFrom(
      RegistryEndpoint endpoint,
      ImageRef reference,
      String manifestReference,
      @Nullable Digest digest)
      throws IOException {
    Request request =
        new Request.Builder()
            .url(endpoint.manifestUrl(reference.repository(), manifestReference))
            .header("Accept", ACCEPT)
            .get()
            .build();
    Transport.Exchange exchange =
        new Transport.Exchange(
            reference.registryHost(),
            endpoint,
            request,
            Scopes.pull(reference.repository()),
            true,
            false);
    return transport.execute(exchange, response -> read(response, endpoint, reference, digest));
  }

  private ManifestContent read(
      Response response, RegistryEndpoint endpoint, ImageRef reference, @Nullable Digest expected)
      throws IOException {
    if (response.code() == 404) {
      try (response) {
        throw new ManifestNotFoundException(
            "manifest " + reference + " not found",
            response.request().method(),
            response.request().url(),
            ErrorResponses.errorsOf(response));
      }
    }
    if (response.code() != 200) {
      throw ErrorResponses.failure(
          "cannot read manifest " + reference, response, endpoint.authority());
    }

    byte[] bytes;
    try (response) {
      bytes = readLimited(response, "manifest " + reference);
    }

    // Check the digest: the one the reference names, else the one the registry announces.
    Digest actual;
    if (expected != null) {
      actual = expected.hasher().update(bytes).digest();
      if (!actual.equals(expected)) {
        throw new DigestMismatchException("manifest " + reference, expected, actual);
      }
    } else {
      actual = Digest.sha256Of(bytes);
      Digest announced = announcedDigest(response, reference);
      if (announced != null) {
        Digest computed = announced.hasher().update(bytes).digest();
        if (!computed.equals(announced)) {
          throw new DigestMismatchException(
              "manifest " + reference + " (Docker-Content-Digest)", announced, computed);
        }
        actual = computed;
      }
    }

    String mediaType = mediaTypeOf(response.header("Content-Type"), bytes);
    return new ManifestContent(Descriptor.of(mediaType, actual, bytes.length), bytes);
  }

  /**
   * Reads a document of at most {@code maxManifestBytes}.
   *
   * @param description names the document in the error, such as {@code manifest <reference>}
   */
  private byte[] readLimited(Response response, String description) throws IOException {
    long limit = options.maxManifestBytes();
    byte[] bytes = BoundedBody.read(response.body(), limit);
    if (bytes == null) {
      throw new RegistryException(description + " is larger than the limit of " + limit + " bytes");
    }
    return bytes;
  }

  private static @Nullable Digest announcedDigest(Response response, ImageRef reference)
      throws RegistryException {
    String header = response.header("Docker-Content-Digest");
    if (header == null || header.isBlank()) {
      return null;
    }
    try {
      return Digest.parse(header.trim());
    } catch (IllegalArgumentException e) {
      throw new RegistryException(
          "manifest " + reference + " has an invalid Docker-Content-Digest: " + e.getMessage());
    }
  }

  /**
   * Returns the media type from {@code Content-Type} when it is a manifest or index type, else the
   * JSON's {@code mediaType}, else the OCI type that fits the JSON's members.
   */
  static String mediaTypeOf(@Nullable String contentType, byte[] bytes) {
    String type = contentType == null ? "" : contentType;
    int semicolon = type.indexOf(';');
    type = (semicolon < 0 ? type : type.substring(0, semicolon)).trim();
    if (MediaType.isManifest(type) || MediaType.isIndex(type)) {
      return type;
    }
    try {
      JsonNode json = JSON.readTree(bytes);
      if (json != null && json.isObject()) {
        String declared = json.path("mediaType").asText("");
        if (!declared.isEmpty()) {
          return declared;
        }
        if (json.has("manifests")) {
          return MediaType.OCI_INDEX;
        }
        if (json.has("config")) {
          return MediaType.OCI_MANIFEST;
        }
      }
    } catch (IOException e) {
      // Not JSON: keep the header's type, which the caller rejects as unsupported.
    }
    return type;
  }
}
