package dev.jsoci.convert;

import dev.jsoci.oci.Descriptor;
import java.time.Duration;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The outcome of a conversion for one layer.
 *
 * @param platform the platform of the first image that listed the layer, such as {@code
 *     linux/amd64}
 * @param source the layer's descriptor in the source image
 * @param layer the layer's descriptor in the converted image: {@code source}, or the gzip layer
 *     that replaced it
 * @param outcome whether the layer got a zTOC
 * @param reason why it got none; empty when it got one
 * @param ztoc the zTOC's descriptor as listed in the SOCI index, or null
 * @param prefetchFiles the layer's files for the prefetch search, or null without a zTOC or
 *     prefetch files
 * @param uploadedBytes bytes of the layer and its zTOC that were sent to or stored in the
 *     destination
 * @param elapsed the time the layer took
 */
public record LayerReport(
    String platform,
    Descriptor source,
    Descriptor layer,
    Outcome outcome,
    String reason,
    @Nullable Descriptor ztoc,
    PrefetchFiles.@Nullable LayerFiles prefetchFiles,
    long uploadedBytes,
    Duration elapsed) {

  /** Whether a layer got a zTOC. */
  public enum Outcome {
    /** A zTOC was built. */
    INDEXED,
    /** The layer was left without a zTOC by policy: its size, compression or media type. */
    SKIPPED,
    /** Building the zTOC failed on the layer's content, such as corrupt gzip or sparse files. */
    FAILED
  }

  public LayerReport {
    Objects.requireNonNull(platform, "platform");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(layer, "layer");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(reason, "reason");
    if ((outcome == Outcome.INDEXED) != (ztoc != null)) {
      throw new IllegalArgumentException(
          "a zTOC is expected exactly for an indexed layer, found outcome "
              + outcome
              + " and zTOC "
              + ztoc);
    }
    Objects.requireNonNull(elapsed, "elapsed");
  }

  /** Returns whether the layer was re-compressed to gzip. */
  public boolean recompressed() {
    return !layer.digest().equals(source.digest());
  }
}
