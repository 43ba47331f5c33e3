package dev.jsoci.fetcher.discovery;

import dev.jsoci.oci.Digest;
import java.util.Objects;

/** The digest of an image's SOCI index and where it was found. */
public record DiscoveredIndex(Digest digest, IndexSource source) {
  public DiscoveredIndex {
    Objects.requireNonNull(digest, "digest");
    Objects.requireNonNull(source, "source");
  }
}
