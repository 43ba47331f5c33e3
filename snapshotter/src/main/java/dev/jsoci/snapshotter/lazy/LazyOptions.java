package dev.jsoci.snapshotter.lazy;

import dev.jsoci.config.BackgroundFetchConfig;
import dev.jsoci.config.JsociConfig;
import dev.jsoci.config.MirrorConfig;
import dev.jsoci.fetcher.discovery.DiscoveryOptions;
import dev.jsoci.fetcher.registry.RegistryMirror;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fetcher.registry.RetrySettings;
import dev.jsoci.fetcher.span.SpanOptions;
import dev.jsoci.fs.FileSystemOptions;
import dev.jsoci.fs.fuse.MountOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the daemon's configuration file into the options of the registry client, the span engine,
 * index discovery and the FUSE layers, for the daemon and for {@code jsoci mount} alike.
 */
public final class LazyOptions {
  /** Spans fetched ahead of a sequential reader. */
  public static final int READAHEAD_SPANS = 2;

  /**
   * The span size that turns {@code fetch_period_msec} into a byte rate: 4 MiB, the span size of
   * soci-snapshotter's and jsoci's index builders unless configured otherwise.
   */
  static final long ASSUMED_SPAN_BYTES = 4L << 20;

  private static final Duration UNMOUNT_TIMEOUT = Duration.ofSeconds(30);

  /**
   * Bytes of inflated spans kept on the heap in front of the disk cache, beyond the 4 most recently
   * used spans that the memory cache always keeps. The disk cache files stay in the kernel's page
   * cache, so a larger heap tier mostly duplicates them.
   */
  static final long MEMORY_TIER_BYTES = 8L << 20;

  /** The maximum of inflated spans, in bytes, kept on the heap when the disk cache is off. */
  static final long MEMORY_ONLY_CACHE_BYTES = 256L << 20;

  private LazyOptions() {}

  /**
   * Returns registry settings from {@code [http]}, with the retries of layer data (span ranges and
   * layer downloads) from {@code [blob]}, and the mirrors and {@code auth_client_ttl_sec} of {@code
   * [resolver]}. Hosts come from those mirrors and then from the {@code hosts.toml} files of {@code
   * [registry] config_path}, and {@code localhost} and loopback registries use plain HTTP, as in
   * containerd. Callers may still set {@code plainHttp} and the user agent.
   *
   * @throws IllegalArgumentException if a mirror's host is not a valid host and port
   */
  public static RegistryOptions.Builder registryOptions(JsociConfig config) {
    Map<String, List<RegistryMirror>> mirrors = new LinkedHashMap<>();
    for (Map.Entry<String, List<MirrorConfig>> host : config.resolver().mirrors().entrySet()) {
      List<RegistryMirror> list = new ArrayList<>();
      for (MirrorConfig mirror : host.getValue()) {
        list.add(
            new RegistryMirror(
                mirror.host(),
                mirror.insecure(),
                mirror.requestTimeout().orElse(null),
                mirror.scheme().orElse(null),
                mirror.apiPath()));
      }
      mirrors.put(host.getKey(), list);
    }
    return RegistryOptions.builder()
        .hostsDirectory(config.registry().hostsDirectory().orElse(null))
        .mirrors(mirrors)
        .authLifetime(config.resolver().authClientTtl().orElse(null))
        .connectTimeout(config.http().dialTimeout())
        .readTimeout(config.http().responseHeaderTimeout())
        .callTimeout(config.http().requestTimeout())
        .maxRetries(config.http().maxRetries())
        .minBackoff(config.http().minWait())
        .maxBackoff(config.http().maxWait())
        .layerDataRetries(
            new RetrySettings(
                config.blob().maxRetries(), config.blob().minWait(), config.blob().maxWait()));
  }

  /**
   * Returns span engine settings: verification retries, background fetching at the configured rate
   * with its queue limit, drop policy and silence period, a readahead of {@link #READAHEAD_SPANS},
   * and a disk cache of up to {@code filesystem_cache_max_bytes} in {@code cacheDirectory} unless
   * {@code filesystem_cache_type} is {@code memory}. The heap keeps {@link #MEMORY_TIER_BYTES} of
   * spans in front of the disk cache; without a disk cache it keeps up to {@link
   * #MEMORY_ONLY_CACHE_BYTES}, but never more than a quarter of the JVM's maximum heap, because
   * span fetches in progress, the young generation and the layers' trees and zTOCs need the rest.
   */
  public static SpanOptions spanOptions(JsociConfig config, Path cacheDirectory) {
    return spanOptions(config, cacheDirectory, Runtime.getRuntime().maxMemory());
  }

  static SpanOptions spanOptions(JsociConfig config, Path cacheDirectory, long maxHeapBytes) {
    BackgroundFetchConfig background = config.backgroundFetch();
    SpanOptions.Builder options =
        SpanOptions.builder()
            .verificationRetries(config.blob().maxSpanVerificationRetries())
            .backgroundFetch(!background.disable())
            .backgroundBytesPerSecond(backgroundBytesPerSecond(background.fetchPeriod()))
            .backgroundQueueLimit(background.maxQueueSize())
            .backgroundDropOldest(
                background.dropPolicy() == BackgroundFetchConfig.DropPolicy.OLDEST)
            .backgroundSilence(background.silencePeriod())
            .readaheadSpans(READAHEAD_SPANS);
    if (config.spanCacheType() == JsociConfig.SpanCacheType.DISK) {
      options
          .diskCacheDirectory(cacheDirectory)
          .diskCacheBytes(config.spanCacheMaxBytes())
          .memoryCacheBytes(MEMORY_TIER_BYTES);
    } else {
      options.memoryCacheBytes(Math.min(MEMORY_ONLY_CACHE_BYTES, maxHeapBytes / 4));
    }
    return options.build();
  }

  /**
   * Returns the background rate that starts one span fetch per {@code fetchPeriod}, for spans of 4
   * MiB: 8 MiB/s for the default 500 ms.
   */
  static long backgroundBytesPerSecond(Duration fetchPeriod) {
    long periodMillis = Math.max(1, fetchPeriod.toMillis());
    return Math.max(1, ASSUMED_SPAN_BYTES * 1000 / periodMillis);
  }

  public static DiscoveryOptions discoveryOptions(JsociConfig config) {
    return DiscoveryOptions.defaults()
        .withV1Enabled(config.pullModes().sociV1Enabled())
        .withV2Enabled(config.pullModes().sociV2Enabled());
  }

  /**
   * Returns file system settings: a read waits at most {@code [blob] fetching_timeout_sec}, tar
   * headers are checked unless {@code disable_verification} is set, and every FUSE operation is
   * logged at info level with {@code [fuse] log_fuse_operations}, else at trace level with {@code
   * debug}.
   */
  public static FileSystemOptions fileSystemOptions(JsociConfig config) {
    return FileSystemOptions.builder()
        .readTimeout(config.blob().fetchingTimeout())
        .verifyTarHeaders(!config.disableVerification())
        .logOperations(config.fuse().logFuseOperations())
        .traceOperations(config.fuseDebug())
        .build();
  }

  /** Returns FUSE mount options with the {@code [fuse]} timeouts and {@code mount_timeout_sec}. */
  public static MountOptions mountOptions(JsociConfig config, String fsname) {
    return MountOptions.builder(fsname)
        .entryTimeout(config.fuse().entryTimeout())
        .attrTimeout(config.fuse().attrTimeout())
        .negativeTimeout(config.fuse().negativeTimeout())
        .mountTimeout(config.mountTimeout())
        .unmountTimeout(UNMOUNT_TIMEOUT)
        .build();
  }
}
