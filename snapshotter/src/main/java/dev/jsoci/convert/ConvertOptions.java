package dev.jsoci.convert;

import dev.jsoci.oci.LayerIndexDecision;
import dev.jsoci.oci.Platform;
import dev.jsoci.ztoc.ZtocBuilder;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Settings of one conversion.
 *
 * @param platforms the platforms to convert; empty for the default choice
 * @param allPlatforms whether every platform of the source index is converted
 * @param spanSizeBytes uncompressed bytes between zTOC checkpoints, at least 1
 * @param minLayerSizeBytes layers with a smaller compressed size get no zTOC
 * @param forceGzip whether uncompressed layers are re-compressed to gzip and then indexed
 * @param buildToolIdentifier stored in every zTOC and SOCI index
 * @param hostPlatform the platform converted by default when the source has several
 * @param prefetchFiles paths of files a container reads when it starts, cleaned as {@link
 *     PrefetchFiles#clean} does; their spans go into prefetch artifacts
 * @param xattrOptimization whether the zTOC of a layer without extended attributes and opaque
 *     directories is annotated {@code com.amazon.soci.disable-xattrs: true}, so that its mounts
 *     return ENOSYS for getxattr and the kernel sends them no more getxattr requests
 */
public record ConvertOptions(
    List<Platform> platforms,
    boolean allPlatforms,
    long spanSizeBytes,
    long minLayerSizeBytes,
    boolean forceGzip,
    String buildToolIdentifier,
    Platform hostPlatform,
    List<String> prefetchFiles,
    boolean xattrOptimization) {

  public ConvertOptions {
    platforms = List.copyOf(platforms);
    if (allPlatforms && !platforms.isEmpty()) {
      throw new IllegalArgumentException(
          "allPlatforms and platforms " + platforms + " exclude each other");
    }
    if (spanSizeBytes <= 0) {
      throw new IllegalArgumentException("spanSizeBytes must be positive, found " + spanSizeBytes);
    }
    if (minLayerSizeBytes < 0) {
      throw new IllegalArgumentException(
          "minLayerSizeBytes must not be negative, found " + minLayerSizeBytes);
    }
    Objects.requireNonNull(buildToolIdentifier, "buildToolIdentifier");
    Objects.requireNonNull(hostPlatform, "hostPlatform");
    prefetchFiles = PrefetchFiles.clean(prefetchFiles);
  }

  /**
   * Returns a builder with the defaults: the host's platform, 4 MiB spans, a 10 MiB minimum layer
   * size and no re-compression.
   */
  public static Builder builder(String buildToolIdentifier) {
    return new Builder(buildToolIdentifier);
  }

  public Builder toBuilder() {
    return new Builder(buildToolIdentifier)
        .platforms(platforms)
        .allPlatforms(allPlatforms)
        .spanSizeBytes(spanSizeBytes)
        .minLayerSizeBytes(minLayerSizeBytes)
        .forceGzip(forceGzip)
        .hostPlatform(hostPlatform)
        .prefetchFiles(prefetchFiles)
        .xattrOptimization(xattrOptimization);
  }

  /**
   * Returns the platform of this JVM's host as containerd's default platform names it: {@code
   * linux/amd64}, or {@code linux/arm64/v8} on 64-bit ARM.
   */
  public static Platform detectHostPlatform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String goos = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "darwin" : os;
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    switch (arch) {
      case "amd64":
      case "x86_64":
        return Platform.of(goos, "amd64");
      case "aarch64":
      case "arm64":
        return Platform.of(goos, "arm64", "v8");
      case "x86":
      case "i386":
      case "i686":
        return Platform.of(goos, "386");
      default:
        return Platform.of(goos, arch);
    }
  }

  /**
   * Parses {@code os/architecture[/variant]}, such as {@code linux/arm64/v8}.
   *
   * @throws IllegalArgumentException naming the text when it has not two or three non-empty parts
   */
  public static Platform parsePlatform(String text) {
    String[] parts = text.split("/", -1);
    boolean valid = parts.length == 2 || parts.length == 3;
    for (String part : parts) {
      valid &= !part.isEmpty();
    }
    if (!valid) {
      throw new IllegalArgumentException(
          "invalid platform \"" + text + "\", expected os/architecture[/variant]");
    }
    return Platform.of(
        parts[0].toLowerCase(Locale.ROOT),
        parts[1].toLowerCase(Locale.ROOT),
        parts.length == 3 ? parts[2].toLowerCase(Locale.ROOT) : "");
  }

  /** Builds {@link ConvertOptions}; each method sets the component it names. */
  public static final class Builder {
    private List<Platform> platforms = List.of();
    private boolean allPlatforms;
    private long spanSizeBytes = ZtocBuilder.DEFAULT_SPAN_SIZE;
    private long minLayerSizeBytes = LayerIndexDecision.DEFAULT_MIN_LAYER_SIZE_BYTES;
    private boolean forceGzip;
    private String buildToolIdentifier;
    private Platform hostPlatform = detectHostPlatform();
    private List<String> prefetchFiles = List.of();
    private boolean xattrOptimization;

    private Builder(String buildToolIdentifier) {
      this.buildToolIdentifier = buildToolIdentifier;
    }

    public Builder platforms(List<Platform> platforms) {
      this.platforms = platforms;
      return this;
    }

    public Builder allPlatforms(boolean allPlatforms) {
      this.allPlatforms = allPlatforms;
      return this;
    }

    public Builder spanSizeBytes(long spanSizeBytes) {
      this.spanSizeBytes = spanSizeBytes;
      return this;
    }

    public Builder minLayerSizeBytes(long minLayerSizeBytes) {
      this.minLayerSizeBytes = minLayerSizeBytes;
      return this;
    }

    public Builder forceGzip(boolean forceGzip) {
      this.forceGzip = forceGzip;
      return this;
    }

    public Builder buildToolIdentifier(String buildToolIdentifier) {
      this.buildToolIdentifier = buildToolIdentifier;
      return this;
    }

    public Builder hostPlatform(Platform hostPlatform) {
      this.hostPlatform = hostPlatform;
      return this;
    }

    /** Sets the prefetch files; they are cleaned, and blank ones dropped, when built. */
    public Builder prefetchFiles(List<String> prefetchFiles) {
      this.prefetchFiles = prefetchFiles;
      return this;
    }

    public Builder xattrOptimization(boolean xattrOptimization) {
      this.xattrOptimization = xattrOptimization;
      return this;
    }

    /**
     * Returns the options.
     *
     * @throws IllegalArgumentException when a value is out of range, both platforms and
     *     allPlatforms are set, or a prefetch file contains a NUL character
     */
    public ConvertOptions build() {
      return new ConvertOptions(
          platforms,
          allPlatforms,
          spanSizeBytes,
          minLayerSizeBytes,
          forceGzip,
          buildToolIdentifier,
          hostPlatform,
          prefetchFiles,
          xattrOptimization);
    }
  }
}
