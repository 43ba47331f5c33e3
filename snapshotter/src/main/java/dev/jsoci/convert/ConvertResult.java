package dev.jsoci.convert;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Platform;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The result of a conversion.
 *
 * @param index the descriptor of the new image index, as tagged in the destination
 * @param platforms one entry per converted platform, in image index order
 * @param layers one report per distinct layer of the converted platforms, in processing order
 * @param uploadedBytes bytes sent to or stored in the destination: layers, zTOCs, configs and
 *     manifests that it did not have
 * @param elapsed the time the conversion took
 */
public record ConvertResult(
    Descriptor index,
    List<PlatformResult> platforms,
    List<LayerReport> layers,
    long uploadedBytes,
    Duration elapsed) {

  public ConvertResult {
    Objects.requireNonNull(index, "index");
    platforms = List.copyOf(platforms);
    layers = List.copyOf(layers);
    Objects.requireNonNull(elapsed, "elapsed");
  }

  /** Returns how many layers ended with {@code outcome}. */
  public long count(LayerReport.Outcome outcome) {
    return layers.stream().filter(layer -> layer.outcome() == outcome).count();
  }

  /**
   * The result for one platform.
   *
   * @param platform the platform of the image entry, or null when the entry has none
   * @param manifest the descriptor of the rewritten image manifest
   * @param sociIndex the descriptor of the platform's SOCI index, or null when no layer of it got a
   *     zTOC
   * @param prefetchWarnings one sentence for each prefetch file that got no spans, such as {@code
   *     prefetch file /app/x is in no layer with a zTOC}
   */
  public record PlatformResult(
      @Nullable Platform platform,
      Descriptor manifest,
      @Nullable Descriptor sociIndex,
      List<String> prefetchWarnings) {
    public PlatformResult {
      Objects.requireNonNull(manifest, "manifest");
      prefetchWarnings = List.copyOf(prefetchWarnings);
    }
  }
}
