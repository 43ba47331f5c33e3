package dev.jsoci.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The daemon's configuration, as read from {@code config.toml}; {@link #DEFAULTS} when there is no
 * file. Key names and defaults follow soci-snapshotter's {@code config.toml}, so its files work
 * unchanged.
 *
 * @param spanCacheType where span data is cached ({@code filesystem_cache_type})
 * @param spanCacheMaxBytes the cap on the span files of the disk cache, headers included ({@code
 *     filesystem_cache_max_bytes})
 * @param resolveResultEntries size of the resolved-layer and blob caches ({@code
 *     resolve_result_entry})
 * @param fuseDebug log the FUSE protocol at trace level ({@code debug})
 * @param disableVerification skip the per-file tar header check; span digests are still checked
 * @param maxConcurrentResolutions concurrent layer pre-resolutions, -1 for unlimited ({@code
 *     max_concurrency})
 * @param mountTimeout longest wait for a layer to resolve while mounting it ({@code
 *     mount_timeout_sec})
 * @param debugAddress TCP address of the debug endpoint; empty for none
 * @param skipCheckSnapshotterSupported skip the overlayfs probe at start
 * @param registry where the {@code hosts.toml} files of registry hosts are ({@code [registry]})
 * @param socketGroup the group name or numeric gid that may connect to the daemon's socket ({@code
 *     socket_group}); empty for root only
 */
public record JsociConfig(
    SpanCacheType spanCacheType,
    long spanCacheMaxBytes,
    int resolveResultEntries,
    boolean fuseDebug,
    boolean disableVerification,
    int maxConcurrentResolutions,
    Duration mountTimeout,
    String debugAddress,
    boolean skipCheckSnapshotterSupported,
    MetricsConfig metrics,
    HttpConfig http,
    BlobConfig blob,
    FuseConfig fuse,
    BackgroundFetchConfig backgroundFetch,
    PrefetchConfig prefetch,
    PullModesConfig pullModes,
    ResolverConfig resolver,
    SnapshotterConfig snapshotter,
    RegistryConfig registry,
    Optional<String> socketGroup) {

  /** The default cap on the disk span cache: 8 GiB. */
  public static final long DEFAULT_SPAN_CACHE_MAX_BYTES = 8L << 30;

  public static final JsociConfig DEFAULTS =
      new JsociConfig(
          SpanCacheType.DISK,
          DEFAULT_SPAN_CACHE_MAX_BYTES,
          30,
          false,
          false,
          100,
          Duration.ofSeconds(30),
          "",
          false,
          MetricsConfig.DEFAULTS,
          HttpConfig.DEFAULTS,
          BlobConfig.defaults(HttpConfig.DEFAULTS),
          FuseConfig.DEFAULTS,
          BackgroundFetchConfig.DEFAULTS,
          PrefetchConfig.DEFAULTS,
          PullModesConfig.DEFAULTS,
          ResolverConfig.DEFAULTS,
          SnapshotterConfig.DEFAULTS,
          RegistryConfig.DEFAULTS,
          Optional.empty());

  public JsociConfig {
    Objects.requireNonNull(spanCacheType, "spanCacheType");
    Objects.requireNonNull(mountTimeout, "mountTimeout");
    Objects.requireNonNull(debugAddress, "debugAddress");
    Objects.requireNonNull(metrics, "metrics");
    Objects.requireNonNull(http, "http");
    Objects.requireNonNull(blob, "blob");
    Objects.requireNonNull(fuse, "fuse");
    Objects.requireNonNull(backgroundFetch, "backgroundFetch");
    Objects.requireNonNull(prefetch, "prefetch");
    Objects.requireNonNull(pullModes, "pullModes");
    Objects.requireNonNull(resolver, "resolver");
    Objects.requireNonNull(snapshotter, "snapshotter");
    Objects.requireNonNull(registry, "registry");
    if (spanCacheMaxBytes <= 0) {
      throw new IllegalArgumentException(
          "spanCacheMaxBytes must be positive: " + spanCacheMaxBytes);
    }
    Objects.requireNonNull(socketGroup, "socketGroup");
    if (resolveResultEntries <= 0) {
      throw new IllegalArgumentException(
          "resolveResultEntries must be positive: " + resolveResultEntries);
    }
    if (maxConcurrentResolutions < -1 || maxConcurrentResolutions == 0) {
      throw new IllegalArgumentException(
          "maxConcurrentResolutions must be positive or -1: " + maxConcurrentResolutions);
    }
  }

  /** The kind of span cache: memory only, or memory and disk. */
  public enum SpanCacheType {
    /** In memory only. */
    MEMORY,
    /** In files under the daemon's root. */
    DISK
  }
}
