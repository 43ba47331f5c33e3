package dev.jsoci.snapshotter.lazy;

import static com.google.common.truth.Truth.assertThat;

import dev.jsoci.config.ConfigFile;
import dev.jsoci.config.JsociConfig;
import dev.jsoci.fetcher.registry.RegistryMirror;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fetcher.registry.RetrySettings;
import dev.jsoci.fetcher.span.SpanOptions;
import dev.jsoci.fs.FileSystemOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class LazyOptionsTest {
  private static final Path CACHE = Path.of("/var/lib/jsoci/spans");
  private static final long MIB = 1L << 20;

  @Test
  void registryOptions_blobRetries_applyToLayerData() throws Exception {
    JsociConfig config =
        ConfigFile.parse(
                "[http]\nMaxRetries = 4\nMinWaitMsec = 10\nMaxWaitMsec = 1000\n"
                    + "[blob]\nmax_retries = 2\nmin_wait_msec = 5\nmax_wait_msec = 50\n",
                "t.toml")
            .config();

    RegistryOptions options = LazyOptions.registryOptions(config).build();

    assertThat(options.retries())
        .isEqualTo(new RetrySettings(4, Duration.ofMillis(10), Duration.ofMillis(1000)));
    assertThat(options.retriesOfLayerData())
        .isEqualTo(new RetrySettings(2, Duration.ofMillis(5), Duration.ofMillis(50)));
  }

  @Test
  void registryOptions_resolverMirrors_inOrder() throws Exception {
    JsociConfig config =
        ConfigFile.parse(
                "[[resolver.host.\"docker.io\".mirrors]]\n"
                    + "host = \"mirror-a.example.com\"\n"
                    + "request_timeout_sec = 5\n"
                    + "[[resolver.host.\"docker.io\".mirrors]]\n"
                    + "host = \"10.0.0.1:5000\"\n"
                    + "insecure = true\n"
                    + "request_timeout_sec = -1\n"
                    + "[[resolver.host.\"ghcr.io\".mirrors]]\n"
                    + "host = \"mirror-b.example.com\"\n"
                    + "[[resolver.host.\"ghcr.io\".mirrors]]\n"
                    + "host = \"https://mirror-c.example.com/cache/v2\"\n",
                "t.toml")
            .config();

    RegistryOptions options = LazyOptions.registryOptions(config).build();

    assertThat(options.mirrors())
        .containsExactly(
            "docker.io",
            List.of(
                new RegistryMirror("mirror-a.example.com", false, Duration.ofSeconds(5)),
                new RegistryMirror("10.0.0.1:5000", true, Duration.ZERO)),
            "ghcr.io",
            List.of(
                new RegistryMirror("mirror-b.example.com", false, null),
                new RegistryMirror("mirror-c.example.com", false, null, "https", "/cache/v2")));
  }

  @Test
  void registryOptions_authClientTtl_limitsAuthLifetime() throws Exception {
    JsociConfig forever =
        ConfigFile.parse("[resolver]\nauth_client_ttl_sec = -1\n", "t.toml").config();

    assertThat(LazyOptions.registryOptions(JsociConfig.DEFAULTS).build().authLifetime())
        .isEqualTo(Duration.ofHours(1));
    assertThat(LazyOptions.registryOptions(forever).build().authLifetime()).isNull();
  }

  @Test
  void registryOptions_noBlobRetries_useHttp() throws Exception {
    JsociConfig config = ConfigFile.parse("[http]\nMaxRetries = 4\n", "t.toml").config();

    RegistryOptions options = LazyOptions.registryOptions(config).build();

    assertThat(options.retriesOfLayerData()).isEqualTo(options.retries());
  }

  @Test
  void spanOptions_diskCache_keepsSmallHeapTier() throws Exception {
    SpanOptions options = LazyOptions.spanOptions(JsociConfig.DEFAULTS, CACHE, 4096 * MIB);

    assertThat(options.diskCacheDirectory()).isEqualTo(CACHE);
    assertThat(options.memoryCacheBytes()).isEqualTo(8 * MIB);
  }

  @Test
  void spanOptions_backgroundFetch_queueAndSilence() throws Exception {
    JsociConfig config =
        ConfigFile.parse(
                "[background_fetch]\n"
                    + "silence_period_msec = 1500\n"
                    + "max_queue_size = 7\n"
                    + "drop_policy = \"oldest\"\n",
                "t.toml")
            .config();

    SpanOptions options = LazyOptions.spanOptions(config, CACHE, 4096 * MIB);

    assertThat(options.backgroundSilence()).isEqualTo(Duration.ofMillis(1500));
    assertThat(options.backgroundQueueLimit()).isEqualTo(7);
    assertThat(options.backgroundDropOldest()).isTrue();
  }

  @Test
  void spanOptions_backgroundFetch_defaults() throws Exception {
    SpanOptions options = LazyOptions.spanOptions(JsociConfig.DEFAULTS, CACHE, 4096 * MIB);

    assertThat(options.backgroundSilence()).isEqualTo(Duration.ofSeconds(30));
    assertThat(options.backgroundQueueLimit()).isEqualTo(300);
    assertThat(options.backgroundDropOldest()).isFalse();
  }

  @Test
  void fileSystemOptions_debug_tracesOperations() throws Exception {
    JsociConfig config = ConfigFile.parse("debug = true\n", "t.toml").config();

    FileSystemOptions options = LazyOptions.fileSystemOptions(config);

    assertThat(options.traceOperations()).isTrue();
    assertThat(options.logOperations()).isFalse();
    assertThat(LazyOptions.fileSystemOptions(JsociConfig.DEFAULTS).traceOperations()).isFalse();
  }

  @Test
  void spanOptions_memoryCache_largeHeap_keeps256MiB() throws Exception {
    JsociConfig config = ConfigFile.parse("filesystem_cache_type = \"memory\"", "t.toml").config();

    SpanOptions options = LazyOptions.spanOptions(config, CACHE, 4096 * MIB);

    assertThat(options.diskCacheDirectory()).isNull();
    assertThat(options.memoryCacheBytes()).isEqualTo(256 * MIB);
  }

  @Test
  void spanOptions_memoryCache_smallHeap_keepsQuarterOfHeap() throws Exception {
    JsociConfig config = ConfigFile.parse("filesystem_cache_type = \"memory\"", "t.toml").config();

    SpanOptions options = LazyOptions.spanOptions(config, CACHE, 200 * MIB);

    assertThat(options.memoryCacheBytes()).isEqualTo(50 * MIB);
  }
}
