package dev.jsoci.fetcher.span;

import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import java.io.IOException;
import java.util.Objects;

/**
 * Reads a layer blob from a registry with one range request per call, through a {@link
 * RegistryClient}, which handles mirrors, authentication, redirects, retries and the check of
 * {@code Content-Range}. Thread-safe.
 */
public final class RegistryBlobRangeSource implements BlobRangeSource {
  private static final byte[] EMPTY = new byte[0];

  private final RegistryClient client;
  private final ImageRef repository;
  private final Digest digest;
  private final long blobSize;

  private RegistryBlobRangeSource(
      RegistryClient client, ImageRef repository, Digest digest, long blobSize) {
    this.client = Objects.requireNonNull(client, "client");
    this.repository = Objects.requireNonNull(repository, "repository");
    this.digest = Objects.requireNonNull(digest, "digest");
    this.blobSize = blobSize;
  }

  /**
   * Returns a source for the layer blob {@code layer} of the repository of {@code repository}. The
   * client stays open and owned by the caller.
   *
   * @param layer the layer's descriptor; its size checks each response's {@code Content-Range}
   */
  public static RegistryBlobRangeSource of(
      RegistryClient client, ImageRef repository, Descriptor layer) {
    return new RegistryBlobRangeSource(client, repository, layer.digest(), layer.size());
  }

  /**
   * Reads {@code [offset, offset + length)} of the blob with one range request.
   *
   * @throws dev.jsoci.fetcher.registry.RangeNotSatisfiableException if the range reaches past the
   *     end of the blob
   * @throws dev.jsoci.fetcher.registry.RegistryException if the registry fails after the client's
   *     retries
   */
  @Override
  public byte[] read(long offset, int length) throws IOException {
    if (length == 0) {
      return EMPTY;
    }
    return client.readBlobRange(repository, digest, offset, length, blobSize);
  }

  @Override
  public String toString() {
    return "RegistryBlobRangeSource{" + repository.name() + "@" + digest + "}";
  }
}
