package dev.jsoci.fetcher.registry;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * A client for OCI distribution-spec registries, with the registry hosts of containerd's {@code
 * hosts.toml}, Docker credentials, retries, redirects to object stores, and digest checks.
 *
 * <p>Every method blocks until it is done and is safe to call from many threads at once. Methods
 * take an {@link ImageRef} for its registry host and repository. Its tag or digest matters only
 * where a method's documentation mentions it. Failures are {@link IOException}s, mostly {@link
 * RegistryException}s whose messages name the reference or digest, the request and the status.
 *
 * <p>Warning: close the client to stop its HTTP threads and connections.
 */
public final class RegistryClient implements AutoCloseable {
  /**
   * The logger of the line, at INFO, that the client writes before each retry. The command line
   * shows it so that a slow registry does not look like a hang, and the daemon from {@code
   * --log-level debug} on.
   */
  public static final String RETRY_LOGGER = "dev.jsoci.fetcher.registry.retries";

  private final HttpClients clients;
  private final HostsDirectory hosts;
  private final ManifestReader manifests;
  private final BlobReader blobs;
  private final BlobUploader uploader;

  private RegistryClient(RegistryOptions options) {
    this.clients = new HttpClients(options);
    this.hosts =
        new HostsDirectory(
            options.hostsDirectory(), options.plainHttp(), options.mirrors(), options.clock());
    Transport transport = new Transport(options, clients);
    this.manifests = new ManifestReader(options, hosts, transport);
    BlobLocations locations = new BlobLocations(options.clock(), options.blobLocationTtl());
    this.blobs = new BlobReader(options, hosts, transport, locations);
    this.uploader = new BlobUploader(options, hosts, transport, blobs);
  }

  /** Creates a client; the caller closes it. */
  public static RegistryClient create(RegistryOptions options) {
    return new RegistryClient(options);
  }

  /**
   * Fetches the manifest or image index that {@code reference} names: by digest when it has one
   * (and the bytes must have that digest), else by tag (and the bytes must have the digest the
   * registry announces in {@code Docker-Content-Digest}, when it does).
   *
   * @throws ManifestNotFoundException if the registry does not know the reference
   * @throws DigestMismatchException if the bytes have another digest
   */
  public ManifestContent fetchManifest(ImageRef reference) throws IOException {
    return manifests.fetch(reference);
  }

  /** Fetches the manifest or index {@code digest} from the repository of {@code repository}. */
  public ManifestContent fetchManifest(ImageRef repository, Digest digest) throws IOException {
    return manifests.fetch(repository, digest);
  }

  /**
   * Resolves {@code reference} to the image manifest for {@code platform}: the manifest it names,
   * or the first entry of the image index it names whose platform matches ({@link
   * Platform#matches}). Both documents are digest-checked.
   *
   * @throws ManifestNotFoundException if the index has no manifest for the platform
   */
  public ResolvedImage resolveImage(ImageRef reference, Platform platform) throws IOException {
    return manifests.resolve(reference, platform);
  }

  /**
   * Returns the referrers of {@code subject} whose artifact type is {@code artifactType}, from the
   * OCI referrers API ({@code GET /v2/<repository>/referrers/<subject>?artifactType=...}), every
   * page of it, or empty when the registry has no referrers API.
   */
  public Optional<ImageIndex> fetchReferrers(
      ImageRef repository, Digest subject, String artifactType) throws IOException {
    return manifests.fetchReferrers(repository, subject, artifactType);
  }

  /**
   * Reads {@code length} bytes of the blob starting at {@code offset}, with one range request.
   *
   * @param blobSize the blob size, to check the {@code Content-Range} total; -1 when unknown
   * @throws RangeNotSatisfiableException if the range reaches past the end of the blob
   * @throws BlobNotFoundException if the registry does not have the blob
   */
  public byte[] readBlobRange(
      ImageRef repository, Digest digest, long offset, int length, long blobSize)
      throws IOException {
    return blobs.readRange(repository, digest, offset, length, blobSize);
  }

  /**
   * Reads the whole blob into memory, checking its size and digest against {@code blob}.
   *
   * @throws DigestMismatchException if the content has another digest
   */
  public byte[] readBlob(ImageRef repository, Descriptor blob) throws IOException {
    return blobs.readAll(repository, blob);
  }

  /**
   * Opens the blob as a stream. A broken connection is resumed with a range request. The size and
   * digest are checked at the end, so the stream reports its end only for correct content. The
   * caller closes the stream, and reads block on the network.
   *
   * @throws DigestMismatchException from a read at the end when the content has another digest
   */
  public InputStream newBlobStream(ImageRef repository, Descriptor blob) throws IOException {
    return blobs.newStream(repository, blob);
  }

  /**
   * Returns the size of the blob from a {@code HEAD} request to the first host with the {@code
   * pull} capability, or empty when that host does not have it. The size is -1 when the registry
   * sends no {@code Content-Length}.
   */
  public OptionalLong findBlobSize(ImageRef repository, Digest digest) throws IOException {
    RegistryEndpoint endpoint =
        hosts.endpointsFor(repository.registryHost(), Capability.PULL).get(0);
    return blobs.findSize(endpoint, repository, digest, Scopes.pull(repository.repository()));
  }

  /**
   * Returns the size of the blob at the host that pushes to the registry of {@code repository} go
   * to, or empty when that host does not have it. Pushes go to the first host with the {@code push}
   * capability, which is the server unless a hosts.toml names another one.
   */
  public OptionalLong findBlobSizeAtPushHost(ImageRef repository, Digest digest)
      throws IOException {
    RegistryEndpoint endpoint = hosts.pushEndpoint(repository.registryHost());
    return blobs.findSize(endpoint, repository, digest, Scopes.pullPush(repository.repository()));
  }

  /** Returns whether the host that pushes to the registry of {@code repository} go to has it. */
  public boolean hasManifestAtPushHost(ImageRef repository, Digest digest) throws IOException {
    return manifests.existsAtPushHost(repository, digest);
  }

  /**
   * Returns whether pushes to the registry of {@code repository} go to another host than its
   * server, because a hosts.toml gives a host with the {@code push} capability before it. Blobs
   * read from the registry are then not in the host that pushes write to.
   */
  public boolean pushesToAnotherHost(ImageRef repository) throws IOException {
    String registry = repository.registryHost();
    List<RegistryEndpoint> all = hosts.endpointsFor(registry);
    RegistryEndpoint server = all.get(all.size() - 1);
    return !hosts.pushEndpoint(registry).equals(server);
  }

  /**
   * Pushes a blob unless the repository has it already. Blobs up to {@link
   * RegistryOptions#chunkedUploadThresholdBytes()} go in one request, larger ones in chunks.
   *
   * @param source opened once per attempt; its content must match {@code blob}
   */
  public BlobPushOutcome pushBlob(ImageRef repository, Descriptor blob, BlobSource source)
      throws IOException {
    return uploader.push(repository, blob, source);
  }

  /**
   * Pushes a blob by linking it from {@code fromRepository} of the same registry (a
   * cross-repository mount), or uploads it from {@code source} when the registry does not mount it.
   */
  public BlobPushOutcome mountBlob(
      ImageRef repository, Descriptor blob, String fromRepository, BlobSource source)
      throws IOException {
    return uploader.pushOrMount(repository, blob, source, fromRepository, true);
  }

  /**
   * Pushes a blob that the caller has just found missing with {@link #findBlobSizeAtPushHost},
   * without asking the registry again: linked from {@code fromRepository} of the same registry
   * when it is not null and the registry mounts it, else uploaded from {@code source}.
   */
  public BlobPushOutcome pushMissingBlob(
      ImageRef repository, Descriptor blob, @Nullable String fromRepository, BlobSource source)
      throws IOException {
    return uploader.pushOrMount(repository, blob, source, fromRepository, false);
  }

  /**
   * Pushes a stream of unknown length and returns its descriptor with {@code mediaType}. Reads the
   * stream to its end but does not close it.
   */
  public Descriptor pushBlob(ImageRef repository, String mediaType, InputStream content)
      throws IOException {
    return uploader.pushStream(repository, mediaType, content);
  }

  /**
   * Pushes a manifest or index with the {@code Content-Type} {@code mediaType}, under the tag of
   * {@code target} or under its digest when it has one, and returns its digest.
   *
   * @throws DigestMismatchException if the registry announces another digest
   */
  public Digest pushManifest(ImageRef target, String mediaType, byte[] content) throws IOException {
    return uploader.pushManifest(target, mediaType, content);
  }

  /** Pushes {@code manifest}, with its media type or the OCI manifest type when it has none. */
  public Digest pushManifest(ImageRef target, ImageManifest manifest) throws IOException {
    String mediaType =
        manifest.mediaType().isEmpty() ? MediaType.OCI_MANIFEST : manifest.mediaType();
    return pushManifest(target, mediaType, manifest.toBytes());
  }

  /** Pushes {@code index}, with its media type or the OCI index type when it has none. */
  public Digest pushIndex(ImageRef target, ImageIndex index) throws IOException {
    String mediaType = index.mediaType().isEmpty() ? MediaType.OCI_INDEX : index.mediaType();
    return pushManifest(target, mediaType, index.toBytes());
  }

  /** Stops the HTTP threads and closes idle connections. */
  @Override
  public void close() {
    clients.close();
  }
}
