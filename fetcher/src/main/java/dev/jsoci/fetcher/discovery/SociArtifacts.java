package dev.jsoci.fetcher.discovery;

import dev.jsoci.oci.Digest;
import dev.jsoci.oci.SociIndex;
import dev.jsoci.ztoc.Ztoc;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A fetched SOCI index with its decoded zTOCs, every blob checked against its digest.
 *
 * @param indexDigest the digest of the index manifest
 * @param ztocsByLayer the zTOC of each indexed image layer, keyed by the layer digest
 */
public record SociArtifacts(Digest indexDigest, SociIndex index, Map<Digest, Ztoc> ztocsByLayer) {
  public SociArtifacts {
    Objects.requireNonNull(indexDigest, "indexDigest");
    Objects.requireNonNull(index, "index");
    ztocsByLayer = Map.copyOf(ztocsByLayer);
  }

  /** Returns the zTOC of the image layer, or empty when the index does not cover it. */
  public Optional<Ztoc> ztocFor(Digest layer) {
    return Optional.ofNullable(ztocsByLayer.get(layer));
  }
}
