package dev.jsoci.config;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigFileTest {
  private static final String FILE = "/etc/jsoci/config.toml";

  @Test
  void parse_emptyFile_givesDefaults() throws Exception {
    LoadedConfig loaded = ConfigFile.parse("", FILE);

    assertThat(loaded.config()).isEqualTo(JsociConfig.DEFAULTS);
    assertThat(loaded.warnings()).isEmpty();
  }

  @Test
  void defaults_matchSociSnapshotter() {
    JsociConfig config = JsociConfig.DEFAULTS;

    assertThat(config.spanCacheType()).isEqualTo(JsociConfig.SpanCacheType.DISK);
    assertThat(config.resolveResultEntries()).isEqualTo(30);
    assertThat(config.maxConcurrentResolutions()).isEqualTo(100);
    assertThat(config.mountTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(config.metrics())
        .isEqualTo(new MetricsConfig(true, "", MetricsConfig.Network.TCP, Duration.ofSeconds(60)));
    assertThat(config.http())
        .isEqualTo(
            new HttpConfig(
                Duration.ofSeconds(3),
                Duration.ofSeconds(3),
                Duration.ofMinutes(5),
                8,
                Duration.ofMillis(30),
                Duration.ofMinutes(5)));
    assertThat(config.blob())
        .isEqualTo(
            new BlobConfig(
                Duration.ofSeconds(60),
                Duration.ofSeconds(300),
                8,
                Duration.ofMillis(30),
                Duration.ofMinutes(5),
                false,
                0));
    assertThat(config.backgroundFetch())
        .isEqualTo(
            new BackgroundFetchConfig(
                false,
                Duration.ofSeconds(30),
                Duration.ofMillis(500),
                300,
                BackgroundFetchConfig.DropPolicy.NEWEST,
                Duration.ofSeconds(10)));
    assertThat(config.pullModes()).isEqualTo(new PullModesConfig(false, true));
    assertThat(config.resolver().authClientTtl()).hasValue(Duration.ofHours(1));
    assertThat(config.snapshotter().minLayerSizeBytes()).isEqualTo(0);
  }

  @Test
  void parse_sociSnapshotterDefaultFile_givesDefaults() throws Exception {
    String toml =
        String.join(
            "\n",
            "max_concurrency = 100",
            "mount_timeout_sec = 30",
            "metrics_network = 'tcp'",
            "metadata_store = 'db'",
            "[http]",
            "  DialTimeoutMsec = 3000",
            "  ResponseHeaderTimeoutMsec = 3000",
            "  RequestTimeoutMsec = 300000",
            "  MaxRetries = 8",
            "  MinWaitMsec = 30",
            "  MaxWaitMsec = 300000",
            "[blob]",
            "  valid_interval = 60",
            "  fetching_timeout_sec = 300",
            "[fuse]",
            "  attr_timeout = 1",
            "  entry_timeout = 1",
            "  negative_timeout = 1",
            "[background_fetch]",
            "  silence_period_msec = 30000",
            "  fetch_period_msec = 500",
            "  max_queue_size = 300",
            "  drop_policy = 'newest'",
            "  emit_metric_period_sec = 10",
            "[content_store]",
            "  type = 'soci'",
            "  containerd_address = '/run/containerd/containerd.sock'",
            "[pull_modes.soci_v1]",
            "  enable = false",
            "[pull_modes.soci_v2]",
            "  enable = true",
            "[cri_keychain]",
            "  image_service_path = '/run/containerd/containerd.sock'",
            "[resolver]",
            "  auth_client_ttl_sec = 3600",
            "");

    LoadedConfig loaded = ConfigFile.parse(toml, FILE);

    // The file sets soci-snapshotter's one-second FUSE timeouts; jsoci's defaults are an hour.
    Duration second = Duration.ofSeconds(1);
    assertThat(loaded.config().fuse()).isEqualTo(new FuseConfig(second, second, second, false));
    assertThat(withFuse(loaded.config(), FuseConfig.DEFAULTS)).isEqualTo(JsociConfig.DEFAULTS);
    assertThat(loaded.warnings())
        .containsExactly(
            FILE
                + ": metadata_store has no effect in jsoci: "
                + "jsoci keeps file metadata of a layer in memory",
            FILE
                + ": content_store.type has no effect in jsoci: "
                + "jsoci fetches SOCI artifacts from the registry into its own cache",
            FILE
                + ": content_store.containerd_address has no effect in jsoci: "
                + "jsoci fetches SOCI artifacts from the registry into its own cache",
            FILE
                + ": cri_keychain.image_service_path has no effect in jsoci: "
                + "jsoci has no CRI image service proxy");
  }

  @Test
  void parse_registryConfigPath() throws Exception {
    assertThat(JsociConfig.DEFAULTS.registry().hostsDirectory())
        .hasValue(Path.of("/etc/containerd/certs.d"));
    assertThat(
            ConfigFile.parse("[registry]\nconfig_path = \"/srv/hosts/../certs.d\"\n", FILE)
                .config()
                .registry()
                .hostsDirectory())
        .hasValue(Path.of("/srv/certs.d"));
    assertThat(
            ConfigFile.parse("[registry]\nconfig_path = \"\"\n", FILE)
                .config()
                .registry()
                .hostsDirectory())
        .isEmpty();
  }

  @Test
  void parse_invalidRegistryConfigPath(@TempDir Path directory) throws Exception {
    InvalidConfigException relative =
        assertThrows(
            InvalidConfigException.class,
            () -> ConfigFile.parse("[registry]\nconfig_path = \"certs.d\"\n", FILE));
    assertThat(relative)
        .hasMessageThat()
        .isEqualTo(
            FILE
                + ": invalid value \"certs.d\" for registry.config_path: expected an absolute"
                + " directory path, or \"\" to read no hosts.toml");

    Path file = Files.writeString(directory.resolve("hosts.toml"), "");
    InvalidConfigException notDirectory =
        assertThrows(
            InvalidConfigException.class,
            () -> ConfigFile.parse("[registry]\nconfig_path = \"" + file + "\"\n", FILE));
    assertThat(notDirectory).hasMessageThat().contains("registry.config_path");
    assertThat(notDirectory).hasMessageThat().endsWith("not a file");
  }

  @Test
  void parse_unknownKeys_areWarningsThatNameThem() throws Exception {
    String toml =
        "mount_timeout = 5\n[fuse]\nattr_timeout = 2\nentry_timout = 3\n[nosuch]\na = 1\n";

    LoadedConfig loaded = ConfigFile.parse(toml, FILE);

    assertThat(loaded.warnings())
        .containsExactly(
            FILE + ": unknown config key mount_timeout (ignored)",
            FILE + ": unknown config key nosuch (ignored)",
            FILE + ": unknown config key fuse.entry_timout (ignored)");
    assertThat(loaded.config().fuse().attrTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(loaded.config().fuse().entryTimeout()).isEqualTo(Duration.ofHours(1));
  }

  @Test
  void parse_invalidDropPolicy_namesFileKeyAndValue() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () -> ConfigFile.parse("[background_fetch]\ndrop_policy = \"fastest\"\n", FILE));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            FILE
                + ": invalid value \"fastest\" for background_fetch.drop_policy: "
                + "expected one of \"newest\" \"oldest\"");
  }

  @Test
  void parse_spanCacheMaxBytes() throws Exception {
    JsociConfig config = ConfigFile.parse("filesystem_cache_max_bytes = 6291456\n", FILE).config();

    assertThat(config.spanCacheMaxBytes()).isEqualTo(6_291_456);
    assertThat(JsociConfig.DEFAULTS.spanCacheMaxBytes()).isEqualTo(8L << 30);
  }

  @Test
  void parse_negativeSpanCacheMaxBytes_isInvalid() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () -> ConfigFile.parse("filesystem_cache_max_bytes = -1\n", FILE));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            FILE
                + ": invalid value -1 for filesystem_cache_max_bytes: "
                + "expected a positive size in bytes");
  }

  @Test
  void parse_wrongType_namesFileKeyAndValue() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () -> ConfigFile.parse("mount_timeout_sec = \"30s\"\n", FILE));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(FILE + ": invalid value \"30s\" for mount_timeout_sec: expected an integer");
  }

  @Test
  void parse_negativeDuration_isInvalid() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () -> ConfigFile.parse("[blob]\nfetching_timeout_sec = -5\n", FILE));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            FILE
                + ": invalid value -5 for blob.fetching_timeout_sec: "
                + "expected a positive number of seconds");
  }

  @Test
  void parse_durationsAboveIntMilliseconds_areInvalid() {
    List<List<String>> cases =
        List.of(
            List.of(
                "[http]\nRequestTimeoutMsec = 3000000000\n",
                "invalid value 3000000000 for http.RequestTimeoutMsec: expected a number of"
                    + " milliseconds up to 2147483647 (about 24 days)"),
            List.of(
                "[blob]\nfetching_timeout_sec = 2147484\n",
                "invalid value 2147484 for blob.fetching_timeout_sec: expected a number of"
                    + " seconds up to 2147483 (about 24 days)"),
            List.of(
                "[[resolver.host.\"127.0.0.1:5000\".mirrors]]\nhost = \"127.0.0.1:5001\"\n"
                    + "request_timeout_sec = 9999999999\n",
                "invalid value 9999999999 for"
                    + " resolver.host.\"127.0.0.1:5000\".mirrors[0].request_timeout_sec: expected"
                    + " a number of seconds up to 2147483 (about 24 days)"),
            List.of(
                "[resolver]\nauth_client_ttl_sec = 9999999999\n",
                "invalid value 9999999999 for resolver.auth_client_ttl_sec: expected a number of"
                    + " seconds up to 2147483 (about 24 days)"));
    for (List<String> testCase : cases) {
      InvalidConfigException e =
          assertThrows(InvalidConfigException.class, () -> ConfigFile.parse(testCase.get(0), FILE));

      assertThat(e).hasMessageThat().isEqualTo(FILE + ": " + testCase.get(1));
    }
  }

  @Test
  void parse_durationsAtTheLimit_areAccepted() throws Exception {
    JsociConfig config =
        ConfigFile.parse(
                "[http]\nRequestTimeoutMsec = 2147483647\n[blob]\nfetching_timeout_sec = 2147483\n",
                FILE)
            .config();

    assertThat(config.http().requestTimeout()).isEqualTo(Duration.ofMillis(Integer.MAX_VALUE));
    assertThat(config.blob().fetchingTimeout()).isEqualTo(Duration.ofSeconds(2147483));
  }

  @Test
  void parse_negativeMinLayerSize_isInvalid() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () -> ConfigFile.parse("[snapshotter]\nmin_layer_size = -1\n", FILE));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            FILE
                + ": invalid value -1 for snapshotter.min_layer_size: "
                + "expected a size in bytes, 0 or more");
  }

  @Test
  void parse_badBoolean_isInvalid() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class, () -> ConfigFile.parse("no_prometheus = 1\n", FILE));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(FILE + ": invalid value 1 for no_prometheus: expected true or false");
  }

  @Test
  void parse_sectionThatIsNotATable_isInvalid() {
    InvalidConfigException e =
        assertThrows(InvalidConfigException.class, () -> ConfigFile.parse("http = 3\n", FILE));

    assertThat(e).hasMessageThat().isEqualTo(FILE + ": invalid value 3 for http: expected a table");
  }

  @Test
  void parse_syntaxError_namesFileAndLine() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () -> ConfigFile.parse("debug = true\n[fuse\nattr_timeout = 1\n", FILE));

    assertThat(e).hasMessageThat().startsWith(FILE + ": invalid TOML at line 2");
  }

  @Test
  void parse_syntaxError_namesLineAndColumn() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () -> ConfigFile.parse("debug = true\nmount_timeout_sec = = 3\n", FILE));

    assertThat(e)
        .hasMessageThat()
        .matches(Pattern.quote(FILE) + ": invalid TOML at line 2, column [0-9]+: .+");
  }

  @Test
  void parse_socketGroupName() throws Exception {
    JsociConfig config = ConfigFile.parse("socket_group = \"jsoci\"\n", FILE).config();

    assertThat(config.socketGroup()).hasValue("jsoci");
  }

  @Test
  void parse_socketGroupGid() throws Exception {
    JsociConfig config = ConfigFile.parse("socket_group = 1234\n", FILE).config();

    assertThat(config.socketGroup()).hasValue("1234");
  }

  @Test
  void parse_socketGroupAbsent_isRootOnly() throws Exception {
    assertThat(ConfigFile.parse("", FILE).config().socketGroup()).isEmpty();
  }

  @Test
  void parse_invalidSocketGroups_nameKeyAndValue() {
    String expected =
        "expected a group name such as \"jsoci\" or a numeric gid from 0 to 2147483647";
    List<List<String>> cases =
        List.of(
            List.of("socket_group = -1", "-1"),
            List.of("socket_group = 4294967296", "4294967296"),
            List.of("socket_group = \"\"", "\"\""),
            List.of("socket_group = \"-rf\"", "\"-rf\""),
            List.of("socket_group = \"a b\"", "\"a b\""),
            List.of("socket_group = \"../etc\"", "\"../etc\""),
            List.of("socket_group = 1.5", "1.5"));
    for (List<String> testCase : cases) {
      InvalidConfigException e =
          assertThrows(
              InvalidConfigException.class,
              () -> ConfigFile.parse(testCase.get(0) + "\n", FILE),
              testCase.get(0));

      assertThat(e)
          .hasMessageThat()
          .isEqualTo(
              FILE + ": invalid value " + testCase.get(1) + " for socket_group: " + expected);
    }
  }

  @Test
  void parse_socketGroupOfWrongType_isInvalid() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class, () -> ConfigFile.parse("socket_group = true\n", FILE));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            FILE
                + ": invalid value true for socket_group: expected a group name such as"
                + " \"jsoci\" or a numeric gid from 0 to 2147483647");
  }

  @Test
  void parse_misspeltCacheType_isInvalid() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () -> ConfigFile.parse("filesystem_cache_type = \"memroy\"\n", FILE));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            FILE
                + ": invalid value \"memroy\" for filesystem_cache_type: "
                + "expected one of \"\" \"memory\" \"disk\"");
  }

  @Test
  void parse_outOfRangeValues_nameKeyAndValue() {
    List<List<String>> cases =
        List.of(
            List.of("resolve_result_entry = -3", "-3 for resolve_result_entry"),
            List.of("mount_timeout_sec = -1", "-1 for mount_timeout_sec"),
            List.of("[http]\nDialTimeoutMsec = -10", "-10 for http.DialTimeoutMsec"),
            List.of("[http]\nMaxRetries = -2", "-2 for http.MaxRetries"),
            List.of("[fuse]\nattr_timeout = -1", "-1 for fuse.attr_timeout"),
            List.of(
                "[background_fetch]\nfetch_period_msec = -500",
                "-500 for background_fetch.fetch_period_msec"),
            List.of(
                "[background_fetch]\nmax_queue_size = -7",
                "-7 for background_fetch.max_queue_size"),
            List.of("resolve_result_entry = 3000000000", "3000000000 for resolve_result_entry"),
            List.of("[http]\nMinWaitMsec = 500\nMaxWaitMsec = 100", "500 for http.MinWaitMsec"),
            List.of("[http]\nMaxWaitMsec = 10", "10 for http.MaxWaitMsec"),
            List.of("[blob]\nmax_wait_msec = 10", "10 for blob.max_wait_msec"));
    for (List<String> testCase : cases) {
      InvalidConfigException e =
          assertThrows(
              InvalidConfigException.class,
              () -> ConfigFile.parse(testCase.get(0) + "\n", FILE),
              testCase.get(0));

      assertThat(e).hasMessageThat().contains(": invalid value " + testCase.get(1) + ": expected ");
    }
  }

  @Test
  void parse_parallelPullEnabled_isInvalid() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () -> ConfigFile.parse("[pull_modes.parallel_pull_unpack]\nenable = true\n", FILE));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            FILE
                + ": invalid value true for pull_modes.parallel_pull_unpack.enable: "
                + "expected false, because jsoci has no parallel pull mode");
  }

  @Test
  void parse_httpSnakeCase_isAccepted() throws Exception {
    LoadedConfig loaded =
        ConfigFile.parse("[http]\ndial_timeout_msec = 1500\nmax_retries = -1\n", FILE);

    assertThat(loaded.config().http().dialTimeout()).isEqualTo(Duration.ofMillis(1500));
    assertThat(loaded.config().http().maxRetries()).isEqualTo(0);
    assertThat(loaded.warnings()).isEmpty();
  }

  @Test
  void parse_httpBothSpellings_isInvalid() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () -> ConfigFile.parse("[http]\nDialTimeoutMsec = 1\ndial_timeout_msec = 2\n", FILE));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            FILE
                + ": both http.DialTimeoutMsec and http.dial_timeout_msec are set: "
                + "keep one of them");
  }

  @Test
  void parse_zeroMeansDefault() throws Exception {
    LoadedConfig loaded =
        ConfigFile.parse("mount_timeout_sec = 0\n[background_fetch]\nmax_queue_size = 0\n", FILE);

    assertThat(loaded.config().mountTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(loaded.config().backgroundFetch().maxQueueSize()).isEqualTo(300);
  }

  @Test
  void parse_blobInheritsHttpRetries() throws Exception {
    LoadedConfig loaded =
        ConfigFile.parse(
            "[http]\nMaxRetries = 2\nMinWaitMsec = 10\n[blob]\ncheck_always = true\n", FILE);

    BlobConfig blob = loaded.config().blob();
    assertThat(blob.maxRetries()).isEqualTo(2);
    assertThat(blob.minWait()).isEqualTo(Duration.ofMillis(10));
    assertThat(blob.validInterval()).isEqualTo(Duration.ZERO);
  }

  @Test
  void parse_negativeSpanVerificationRetries_meansThree() throws Exception {
    LoadedConfig loaded = ConfigFile.parse("[blob]\nmax_span_verification_retries = -1\n", FILE);

    assertThat(loaded.config().blob().maxSpanVerificationRetries()).isEqualTo(3);
  }

  @Test
  void parse_unlimitedValues() throws Exception {
    String toml =
        "max_concurrency = -5\n[background_fetch]\nmax_queue_size = -1\n"
            + "[resolver]\nauth_client_ttl_sec = -1\n[prefetch]\nenable = true\n";

    JsociConfig config = ConfigFile.parse(toml, FILE).config();

    assertThat(config.maxConcurrentResolutions()).isEqualTo(-1);
    assertThat(config.backgroundFetch().maxQueueSize()).isEqualTo(-1);
    assertThat(config.resolver().authClientTtl()).isEmpty();
    assertThat(config.prefetch()).isEqualTo(new PrefetchConfig(true, -1));
  }

  @Test
  void parse_prefetch_defaultsOffAndReadsTheLimit() throws Exception {
    assertThat(ConfigFile.parse("", FILE).config().prefetch())
        .isEqualTo(new PrefetchConfig(false, -1));
    assertThat(
            ConfigFile.parse("[prefetch]\nenable = true\nmax_concurrency = 2\n", FILE)
                .config()
                .prefetch())
        .isEqualTo(new PrefetchConfig(true, 2));
  }

  @Test
  void parse_mirrors() throws Exception {
    String toml =
        String.join(
            "\n",
            "[[resolver.host.\"docker.io\".mirrors]]",
            "host = \"mirror.example.com:5000\"",
            "insecure = true",
            "request_timeout_sec = 4",
            "[[resolver.host.\"docker.io\".mirrors]]",
            "host = \"second.example.com\"",
            "request_timeout_sec = -1",
            "");

    ResolverConfig resolver = ConfigFile.parse(toml, FILE).config().resolver();

    assertThat(resolver.mirrors())
        .containsExactly(
            "docker.io",
            List.of(
                new MirrorConfig(
                    "mirror.example.com:5000", true, Optional.of(Duration.ofSeconds(4))),
                new MirrorConfig("second.example.com", false, Optional.of(Duration.ZERO))));
  }

  @Test
  void parse_mirrorWithoutHost_isInvalid() {
    InvalidConfigException e =
        assertThrows(
            InvalidConfigException.class,
            () ->
                ConfigFile.parse(
                    "[[resolver.host.\"docker.io\".mirrors]]\ninsecure = true\n", FILE));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            FILE
                + ": invalid value (missing) for resolver.host.\"docker.io\".mirrors[0].host: "
                + "expected a registry host and optional port, such as"
                + " \"mirror.example.com:5000\", or an http or https URL with an optional path,"
                + " such as \"https://mirror.example.com/cache/v2\"");
  }

  @Test
  void parse_mirrorHostAsUrl_keepsSchemeAndPath() throws Exception {
    String toml =
        String.join(
            "\n",
            "[[resolver.host.\"docker.io\".mirrors]]",
            "host = \"https://mirror.example.com:5000\"",
            "[[resolver.host.\"docker.io\".mirrors]]",
            "host = \"HTTP://10.0.0.1:5000/cache/v2/\"",
            "insecure = true",
            "");

    ResolverConfig resolver = ConfigFile.parse(toml, FILE).config().resolver();

    assertThat(resolver.mirrors().get("docker.io"))
        .containsExactly(
            new MirrorConfig(
                "mirror.example.com:5000", false, Optional.empty(), Optional.of("https"), ""),
            new MirrorConfig(
                "10.0.0.1:5000", true, Optional.empty(), Optional.of("http"), "/cache/v2"))
        .inOrder();
  }

  @Test
  void parse_invalidMirrorHost_isInvalid() {
    for (String host :
        List.of(
            "mirror/v2",
            "mirror 5000",
            "127.0.0.1:99999",
            "mirror:port",
            "mirror:",
            "user@mirror",
            "https://mirror:70000/v2",
            "ftp://mirror",
            "https://",
            "https:///v2",
            "https://user@mirror",
            "https://mirror/v2?x=1",
            "https://mirror/v2#top")) {
      String toml = "[[resolver.host.\"docker.io\".mirrors]]\nhost = \"" + host + "\"\n";

      InvalidConfigException e =
          assertThrows(InvalidConfigException.class, () -> ConfigFile.parse(toml, FILE), host);

      assertThat(e)
          .hasMessageThat()
          .isEqualTo(
              FILE
                  + ": invalid value \""
                  + host
                  + "\" for resolver.host.\"docker.io\".mirrors[0].host: expected a registry host"
                  + " and optional port, such as \"mirror.example.com:5000\", or an http or https"
                  + " URL with an optional path, such as \"https://mirror.example.com/cache/v2\"");
    }
  }

  @Test
  void parse_memoryCacheAndUnixMetrics() throws Exception {
    String toml =
        "filesystem_cache_type = \"memory\"\nmetrics_address = \"/run/jsoci/metrics.sock\"\n"
            + "metrics_network = \"unix\"\nno_prometheus = true\n";

    JsociConfig config = ConfigFile.parse(toml, FILE).config();

    assertThat(config.spanCacheType()).isEqualTo(JsociConfig.SpanCacheType.MEMORY);
    assertThat(config.metrics())
        .isEqualTo(
            new MetricsConfig(
                false,
                "/run/jsoci/metrics.sock",
                MetricsConfig.Network.UNIX,
                Duration.ofSeconds(60)));
  }

  @Test
  void read_missingFile_throwsNoSuchFile(@TempDir Path directory) {
    Path missing = directory.resolve("config.toml");

    assertThrows(NoSuchFileException.class, () -> ConfigFile.read(missing));
  }

  @Test
  void read_file_namesItInMessages(@TempDir Path directory) throws Exception {
    Path file = directory.resolve("config.toml");
    Files.writeString(
        file, "[snapshotter]\nmin_layer_size = 1048576\nfoo = 1\n", StandardCharsets.UTF_8);

    LoadedConfig loaded = ConfigFile.read(file);

    assertThat(loaded.config().snapshotter().minLayerSizeBytes()).isEqualTo(1_048_576);
    assertThat(loaded.warnings())
        .containsExactly(file + ": unknown config key snapshotter.foo (ignored)");
  }

  private static JsociConfig withFuse(JsociConfig config, FuseConfig fuse) {
    return new JsociConfig(
        config.spanCacheType(),
        config.spanCacheMaxBytes(),
        config.resolveResultEntries(),
        config.fuseDebug(),
        config.disableVerification(),
        config.maxConcurrentResolutions(),
        config.mountTimeout(),
        config.debugAddress(),
        config.skipCheckSnapshotterSupported(),
        config.metrics(),
        config.http(),
        config.blob(),
        fuse,
        config.backgroundFetch(),
        config.prefetch(),
        config.pullModes(),
        config.resolver(),
        config.snapshotter(),
        config.registry(),
        config.socketGroup());
  }
}
