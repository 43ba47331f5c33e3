package dev.jsoci.fetcher.discovery;

import dev.jsoci.fetcher.registry.ManifestContent;
import dev.jsoci.fetcher.registry.ManifestNotFoundException;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageRef;
import java.io.IOException;
import java.util.Optional;

/**
 * The registry reads that index discovery makes. Implementations are thread-safe, block until done
 * and check digests.
 */
public interface IndexRegistry {
  /**
   * Fetches the manifest {@code digest} of the repository, its bytes checked against the digest.
   *
   * @throws ManifestNotFoundException if the registry does not have it
   */
  ManifestContent fetchManifest(ImageRef repository, Digest digest) throws IOException;

  /** Fetches the manifest or index tagged {@code tag}, or returns empty when the tag is unknown. */
  Optional<ManifestContent> fetchTagged(ImageRef repository, String tag) throws IOException;

  /**
   * Returns the referrers of {@code subject} with {@code artifactType} from the OCI referrers API
   * ({@code GET /v2/<repository>/referrers/<subject>?artifactType=...}), or empty when the registry
   * has no referrers API, in which case callers try the tag schema.
   */
  Optional<ImageIndex> fetchReferrers(ImageRef repository, Digest subject, String artifactType)
      throws IOException;

  /** Reads a whole blob, its size and digest checked against {@code blob}. */
  byte[] readBlob(ImageRef repository, Descriptor blob) throws IOException;

  /** Returns the reads of {@code client}, which stays owned by the caller. */
  static IndexRegistry of(RegistryClient client) {
    return new IndexRegistry() {
      @Override
      public ManifestContent fetchManifest(ImageRef repository, Digest digest) throws IOException {
        return client.fetchManifest(repository, digest);
      }

      @Override
      public Optional<ManifestContent> fetchTagged(ImageRef repository, String tag)
          throws IOException {
        ImageRef tagged =
            new ImageRef(repository.registryHost(), repository.repository(), tag, null);
        try {
          return Optional.of(client.fetchManifest(tagged));
        } catch (ManifestNotFoundException e) {
          return Optional.empty();
        }
      }

      @Override
      public Optional<ImageIndex> fetchReferrers(
          ImageRef repository, Digest subject, String artifactType) throws IOException {
        return client.fetchReferrers(repository, subject, artifactType);
      }

      @Override
      public byte[] readBlob(ImageRef repository, Descriptor blob) throws IOException {
        return client.readBlob(repository, blob);
      }
    };
  }
}
