package dev.jsoci.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.jsoci.config.TableReader.DurationUnit;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads {@code config.toml} into a {@link JsociConfig}.
 *
 * <p>Absent keys take their defaults. As in soci-snapshotter, a 0 in most numeric keys also means
 * the default, so 0 cannot be configured there. An unknown key, or a soci-snapshotter key that has
 * no effect in jsoci, becomes a warning of the returned {@link LoadedConfig}; a value of the wrong
 * type or out of range is an {@link InvalidConfigException} naming the file, the key and the value.
 */
public final class ConfigFile {
  /** The path the daemon reads when none is given; a missing file there means the defaults. */
  public static final Path DEFAULT_PATH = Path.of("/etc/jsoci/config.toml");

  private static final TomlMapper MAPPER = new TomlMapper();

  /**
   * A group name: up to 32 letters, digits, '_', '.' or '-', not starting with '-', and an optional
   * final '$' (Samba machine accounts).
   */
  private static final Pattern GROUP_NAME = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\\$?");

  private ConfigFile() {}

  /**
   * Reads and checks {@code file}.
   *
   * @throws NoSuchFileException if the file does not exist
   * @throws InvalidConfigException if the file is not valid TOML or contains an invalid value
   */
  public static LoadedConfig read(Path file) throws IOException {
    String content;
    try {
      content = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw e;
    } catch (IOException e) {
      throw new InvalidConfigException(file + ": cannot read config file: " + e.getMessage(), e);
    }
    return parse(content, file.toString());
  }

  /**
   * Parses the TOML text {@code content}; {@code fileName} only appears in messages.
   *
   * @throws InvalidConfigException if the text is not valid TOML or contains an invalid value
   */
  public static LoadedConfig parse(String content, String fileName) throws InvalidConfigException {
    ObjectNode root = parseToml(content, fileName);
    List<String> warnings = new ArrayList<>();
    TableReader top = new TableReader(fileName, "", root, warnings);
    JsociConfig config = readTopLevel(top);
    top.reportUnknownKeys();
    return new LoadedConfig(config, warnings);
  }

  private static ObjectNode parseToml(String content, String fileName)
      throws InvalidConfigException {
    JsonNode root;
    try {
      root = MAPPER.readTree(content);
    } catch (JacksonException e) {
      JsonLocation location = e.getLocation();
      String where =
          location == null || location.getLineNr() < 1
              ? ""
              : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
      throw new InvalidConfigException(
          fileName + ": invalid TOML" + where + ": " + e.getOriginalMessage(), e);
    }
    if (root == null || root.isMissingNode()) {
      return MAPPER.createObjectNode();
    }
    return (ObjectNode) root;
  }

  private static JsociConfig readTopLevel(TableReader top) throws InvalidConfigException {
    JsociConfig defaults = JsociConfig.DEFAULTS;

    top.ignore("http_cache_type", "soci-snapshotter does not use it either");
    top.ignore("metadata_store", "jsoci keeps file metadata of a layer in memory");
    top.ignore("metadata_db_no_sync", "jsoci keeps file metadata of a layer in memory");
    top.ignore("metadata_insertion_chunk_size", "jsoci keeps file metadata of a layer in memory");
    top.table("directory_cache").ignoreAll("jsoci's disk span cache has no descriptor cache");
    top.table("content_store")
        .ignoreAll("jsoci fetches SOCI artifacts from the registry into its own cache");
    top.table("kubeconfig_keychain").ignoreAll("jsoci has no Kubernetes secret keychain");
    top.table("cri_keychain").ignoreAll("jsoci has no CRI image service proxy");

    // soci-snapshotter takes any value but "memory" as its default cache. A misspelt "memory"
    // would then fill the disk unnoticed, so jsoci accepts only the values it documents.
    JsociConfig.SpanCacheType spanCacheType =
        top.choice("filesystem_cache_type", "", List.of("", "memory", "disk")).equals("memory")
            ? JsociConfig.SpanCacheType.MEMORY
            : JsociConfig.SpanCacheType.DISK;
    long spanCacheMaxBytes =
        top.integerOrDefault("filesystem_cache_max_bytes", defaults.spanCacheMaxBytes());
    if (spanCacheMaxBytes < 0) {
      throw top.invalid("filesystem_cache_max_bytes", "a positive size in bytes");
    }
    int resolveResultEntries =
        top.count("resolve_result_entry", defaults.resolveResultEntries(), false);
    boolean fuseDebug = top.bool("debug", defaults.fuseDebug());
    boolean disableVerification = top.bool("disable_verification", false);
    int maxConcurrency = top.count("max_concurrency", defaults.maxConcurrentResolutions(), true);
    Duration mountTimeout =
        top.duration("mount_timeout_sec", defaults.mountTimeout(), DurationUnit.SECONDS);
    String debugAddress = top.string("debug_address", "");
    boolean skipCheck = top.bool("skip_check_snapshotter_supported", false);
    Optional<String> socketGroup = readSocketGroup(top);

    MetricsConfig metrics = readMetrics(top);
    HttpConfig http = readHttp(top.table("http"));
    BlobConfig blob = readBlob(top.table("blob"), http);
    FuseConfig fuse = readFuse(top.table("fuse"));
    BackgroundFetchConfig backgroundFetch = readBackgroundFetch(top.table("background_fetch"));
    PrefetchConfig prefetch = readPrefetch(top.table("prefetch"));
    PullModesConfig pullModes = readPullModes(top.table("pull_modes"));
    ResolverConfig resolver = readResolver(top.table("resolver"));
    SnapshotterConfig snapshotter = readSnapshotter(top.table("snapshotter"));
    RegistryConfig registry = readRegistry(top.table("registry"));

    return new JsociConfig(
        spanCacheType,
        spanCacheMaxBytes,
        resolveResultEntries,
        fuseDebug,
        disableVerification,
        maxConcurrency,
        mountTimeout,
        debugAddress,
        skipCheck,
        metrics,
        http,
        blob,
        fuse,
        backgroundFetch,
        prefetch,
        pullModes,
        resolver,
        snapshotter,
        registry,
        socketGroup);
  }

  /**
   * Reads {@code socket_group}: a group name (a string) or a numeric gid (an integer). Whether the
   * group exists is checked when the daemon starts.
   */
  private static Optional<String> readSocketGroup(TableReader top) throws InvalidConfigException {
    String key = "socket_group";
    if (!top.keys().contains(key)) {
      return Optional.empty();
    }
    String expected = "a group name such as \"jsoci\" or a numeric gid from 0 to 2147483647";
    if (top.isInteger(key)) {
      long gid = top.integerOrNull(key);
      if (gid < 0 || gid > Integer.MAX_VALUE) {
        throw top.invalid(key, expected);
      }
      return Optional.of(Long.toString(gid));
    }
    if (!top.isString(key)) {
      throw top.invalid(key, expected);
    }
    String name = top.string(key, "");
    if (!GROUP_NAME.matcher(name).matches()) {
      throw top.invalid(key, expected);
    }
    return Optional.of(name);
  }

  private static MetricsConfig readMetrics(TableReader top) throws InvalidConfigException {
    MetricsConfig defaults = MetricsConfig.DEFAULTS;
    boolean noPrometheus = top.bool("no_prometheus", false);
    String address = top.string("metrics_address", defaults.address());
    String network = top.choice("metrics_network", "tcp", List.of("tcp", "unix"));
    Duration emitWait =
        top.duration(
            "fuse_metrics_emit_wait_duration_sec",
            defaults.fuseOperationsEmitWait(),
            DurationUnit.SECONDS);
    return new MetricsConfig(
        !noPrometheus,
        address,
        network.equals("unix") ? MetricsConfig.Network.UNIX : MetricsConfig.Network.TCP,
        emitWait);
  }

  /**
   * Reads {@code [http]}. soci-snapshotter reads these keys in CamelCase (its struct has no TOML
   * tags); the snake_case spellings are accepted too.
   */
  private static HttpConfig readHttp(TableReader table) throws InvalidConfigException {
    HttpConfig defaults = HttpConfig.DEFAULTS;
    Duration dialTimeout =
        httpDuration(table, "DialTimeoutMsec", "dial_timeout_msec", defaults.dialTimeout());
    Duration responseHeaderTimeout =
        httpDuration(
            table,
            "ResponseHeaderTimeoutMsec",
            "response_header_timeout_msec",
            defaults.responseHeaderTimeout());
    Duration requestTimeout =
        httpDuration(
            table, "RequestTimeoutMsec", "request_timeout_msec", defaults.requestTimeout());
    String retriesKey = spelling(table, "MaxRetries", "max_retries");
    int maxRetries = retries(table, retriesKey, defaults.maxRetries());
    Duration minWait = httpDuration(table, "MinWaitMsec", "min_wait_msec", defaults.minWait());
    Duration maxWait = httpDuration(table, "MaxWaitMsec", "max_wait_msec", defaults.maxWait());
    checkWaits(
        table,
        spelling(table, "MinWaitMsec", "min_wait_msec"),
        spelling(table, "MaxWaitMsec", "max_wait_msec"),
        minWait,
        maxWait);
    return new HttpConfig(
        dialTimeout, responseHeaderTimeout, requestTimeout, maxRetries, minWait, maxWait);
  }

  private static Duration httpDuration(
      TableReader table, String camelCase, String snakeCase, Duration defaultValue)
      throws InvalidConfigException {
    return table.duration(
        spelling(table, camelCase, snakeCase), defaultValue, DurationUnit.MILLISECONDS);
  }

  /** Returns the spelling of a key that the table uses; both at once is an error. */
  /**
   * Rejects a minimum retry wait above the maximum, naming the key the file sets: the minimum when
   * it sets it, else the maximum, which is then below the default minimum.
   */
  private static void checkWaits(
      TableReader table, String minKey, String maxKey, Duration minWait, Duration maxWait)
      throws InvalidConfigException {
    if (minWait.compareTo(maxWait) <= 0) {
      return;
    }
    if (table.keys().contains(minKey)) {
      throw table.invalid(
          minKey, "at most the maximum wait of " + maxWait.toMillis() + " milliseconds");
    }
    throw table.invalid(
        maxKey,
        "at least the minimum wait of "
            + minWait.toMillis()
            + " milliseconds, the default of "
            + table.qualify(minKey)
            + ", or set both");
  }

  private static String spelling(TableReader table, String camelCase, String snakeCase)
      throws InvalidConfigException {
    List<String> keys = table.keys();
    if (keys.contains(camelCase) && keys.contains(snakeCase)) {
      throw table.conflict(camelCase, snakeCase);
    }
    return keys.contains(snakeCase) ? snakeCase : camelCase;
  }

  /** Reads a retry count: absent or 0 gives the default, -1 means no retries. */
  private static int retries(TableReader table, String key, int defaultValue)
      throws InvalidConfigException {
    Long value = table.integerOrNull(key);
    if (value == null || value == 0) {
      return defaultValue;
    }
    if (value == -1) {
      return 0;
    }
    if (value < 0) {
      throw table.invalid(key, "a positive integer, or -1 for no retries");
    }
    return table.checkedInt(key, value);
  }

  private static BlobConfig readBlob(TableReader table, HttpConfig http)
      throws InvalidConfigException {
    BlobConfig defaults = BlobConfig.defaults(http);
    Duration validInterval =
        table.duration("valid_interval", defaults.validInterval(), DurationUnit.SECONDS);
    if (table.bool("check_always", false)) {
      validInterval = Duration.ZERO;
    }
    Duration fetchingTimeout =
        table.duration("fetching_timeout_sec", defaults.fetchingTimeout(), DurationUnit.SECONDS);
    int maxRetries = retries(table, "max_retries", defaults.maxRetries());
    Duration minWait =
        table.duration("min_wait_msec", defaults.minWait(), DurationUnit.MILLISECONDS);
    Duration maxWait =
        table.duration("max_wait_msec", defaults.maxWait(), DurationUnit.MILLISECONDS);
    checkWaits(table, "min_wait_msec", "max_wait_msec", minWait, maxWait);
    boolean singleRange = table.bool("force_single_range_mode", false);
    Long verificationRetries = table.integerOrNull("max_span_verification_retries");
    int spanRetries;
    if (verificationRetries == null) {
      spanRetries = 0;
    } else if (verificationRetries < 0) {
      // A negative value selects soci-snapshotter's built-in retry count.
      spanRetries = 3;
    } else {
      spanRetries = table.checkedInt("max_span_verification_retries", verificationRetries);
    }
    return new BlobConfig(
        validInterval, fetchingTimeout, maxRetries, minWait, maxWait, singleRange, spanRetries);
  }

  private static FuseConfig readFuse(TableReader table) throws InvalidConfigException {
    FuseConfig defaults = FuseConfig.DEFAULTS;
    return new FuseConfig(
        table.duration("attr_timeout", defaults.attrTimeout(), DurationUnit.SECONDS),
        table.duration("entry_timeout", defaults.entryTimeout(), DurationUnit.SECONDS),
        table.duration("negative_timeout", defaults.negativeTimeout(), DurationUnit.SECONDS),
        table.bool("log_fuse_operations", false));
  }

  private static BackgroundFetchConfig readBackgroundFetch(TableReader table)
      throws InvalidConfigException {
    BackgroundFetchConfig defaults = BackgroundFetchConfig.DEFAULTS;
    boolean disable = table.bool("disable", false);
    Duration silencePeriod =
        table.duration("silence_period_msec", defaults.silencePeriod(), DurationUnit.MILLISECONDS);
    Duration fetchPeriod =
        table.duration("fetch_period_msec", defaults.fetchPeriod(), DurationUnit.MILLISECONDS);
    Long queueSize = table.integerOrNull("max_queue_size");
    int maxQueueSize;
    if (queueSize == null || queueSize == 0) {
      maxQueueSize = defaults.maxQueueSize();
    } else if (queueSize == -1) {
      maxQueueSize = -1;
    } else if (queueSize < 0) {
      throw table.invalid("max_queue_size", "a positive integer, or -1 for unlimited");
    } else {
      maxQueueSize = table.checkedInt("max_queue_size", queueSize);
    }
    String dropPolicy = table.choice("drop_policy", "newest", List.of("newest", "oldest"));
    Duration emitPeriod =
        table.duration("emit_metric_period_sec", defaults.emitMetricPeriod(), DurationUnit.SECONDS);
    return new BackgroundFetchConfig(
        disable,
        silencePeriod,
        fetchPeriod,
        maxQueueSize,
        dropPolicy.equals("oldest")
            ? BackgroundFetchConfig.DropPolicy.OLDEST
            : BackgroundFetchConfig.DropPolicy.NEWEST,
        emitPeriod);
  }

  private static PrefetchConfig readPrefetch(TableReader table) throws InvalidConfigException {
    boolean enable = table.bool("enable", PrefetchConfig.DEFAULTS.enable());
    Long concurrency = table.integerOrNull("max_concurrency");
    int maxConcurrency =
        concurrency == null || concurrency <= 0
            ? -1
            : table.checkedInt("max_concurrency", concurrency);
    return new PrefetchConfig(enable, maxConcurrency);
  }

  private static PullModesConfig readPullModes(TableReader table) throws InvalidConfigException {
    PullModesConfig defaults = PullModesConfig.DEFAULTS;
    boolean v1 = table.table("soci_v1").bool("enable", defaults.sociV1Enabled());
    boolean v2 = table.table("soci_v2").bool("enable", defaults.sociV2Enabled());
    TableReader parallel = table.table("parallel_pull_unpack");
    // jsoci has no parallel pull mode. Requesting it as the primary mode is an error, because
    // silently pulling lazily instead would surprise the operator. The table's other keys only
    // tune that mode, so they have no effect.
    if (parallel.bool("enable", false)) {
      throw parallel.invalid("enable", "false, because jsoci has no parallel pull mode");
    }
    parallel.ignoreAll("jsoci has no parallel pull mode");
    return new PullModesConfig(v1, v2);
  }

  private static ResolverConfig readResolver(TableReader table) throws InvalidConfigException {
    Long ttlSeconds = table.integerOrNull("auth_client_ttl_sec");
    Optional<Duration> ttl;
    if (ttlSeconds == null || ttlSeconds == 0) {
      ttl = ResolverConfig.DEFAULTS.authClientTtl();
    } else if (ttlSeconds < 0) {
      ttl = Optional.empty();
    } else {
      ttl =
          Optional.of(
              table.boundedDuration("auth_client_ttl_sec", ttlSeconds, DurationUnit.SECONDS));
    }
    boolean sharing = table.bool("enable_auth_client_sharing", false);

    Map<String, List<MirrorConfig>> mirrors = new LinkedHashMap<>();
    for (Map.Entry<String, TableReader> host : table.tables("host").entrySet()) {
      List<MirrorConfig> list = new ArrayList<>();
      for (TableReader mirror : host.getValue().arrayOfTables("mirrors")) {
        list.add(readMirror(mirror));
      }
      mirrors.put(host.getKey(), list);
    }
    return new ResolverConfig(ttl, sharing, mirrors);
  }

  /**
   * Reads {@code [registry]}: {@code config_path}, an absolute directory, or {@code ""} for none. A
   * directory that does not exist yet is accepted, as containerd does: its files are read when they
   * appear.
   */
  private static RegistryConfig readRegistry(TableReader table) throws InvalidConfigException {
    String key = "config_path";
    String text = table.string(key, RegistryConfig.DEFAULT_HOSTS_DIRECTORY.toString());
    if (text.isEmpty()) {
      return new RegistryConfig(Optional.empty());
    }
    Path directory;
    try {
      directory = Path.of(text);
    } catch (InvalidPathException e) {
      throw table.invalid(key, "an absolute directory path, or \"\" to read no hosts.toml");
    }
    if (!directory.isAbsolute()) {
      throw table.invalid(key, "an absolute directory path, or \"\" to read no hosts.toml");
    }
    if (Files.exists(directory) && !Files.isDirectory(directory)) {
      throw table.invalid(key, "a directory of <host[:port]>/hosts.toml files, not a file");
    }
    return new RegistryConfig(Optional.of(directory.normalize()));
  }

  private static MirrorConfig readMirror(TableReader table) throws InvalidConfigException {
    String value = table.string("host", "");
    String expected =
        "a registry host and optional port, such as \"mirror.example.com:5000\", or an http or"
            + " https URL with an optional path, such as \"https://mirror.example.com/cache/v2\"";
    if (value.isEmpty()
        || value.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
      throw table.invalid("host", expected);
    }
    boolean insecure = table.bool("insecure", false);
    Long timeoutSeconds = table.integerOrNull("request_timeout_sec");
    Optional<Duration> requestTimeout;
    if (timeoutSeconds == null || timeoutSeconds == 0) {
      requestTimeout = Optional.empty();
    } else if (timeoutSeconds < 0) {
      requestTimeout = Optional.of(Duration.ZERO);
    } else {
      requestTimeout =
          Optional.of(
              table.boundedDuration("request_timeout_sec", timeoutSeconds, DurationUnit.SECONDS));
    }

    if (!value.contains("://")) {
      if (value.contains("/") || !isHostAndPort(value)) {
        throw table.invalid("host", expected);
      }
      return new MirrorConfig(value, insecure, requestTimeout);
    }
    // A URL, as soci-snapshotter reads the value: its host and port, and its path as the API root.
    URI url;
    try {
      url = new URI(value);
    } catch (URISyntaxException e) {
      throw table.invalid("host", expected);
    }
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https"))
        || url.getRawAuthority() == null
        || !isHostAndPort(url.getRawAuthority())
        || url.getRawUserInfo() != null
        || url.getRawQuery() != null
        || url.getRawFragment() != null) {
      throw table.invalid("host", expected);
    }
    String path = url.getRawPath() == null ? "" : url.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return new MirrorConfig(
        url.getRawAuthority(), insecure, requestTimeout, Optional.of(scheme), path);
  }

  /** Returns whether {@code authority} is a host name or IP address with an optional valid port. */
  private static boolean isHostAndPort(String authority) {
    try {
      URI url = new URI("https://" + authority + "/");
      return url.getHost() != null
          && url.getRawUserInfo() == null
          && url.getPort() <= 65535
          && !authority.endsWith(":");
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static SnapshotterConfig readSnapshotter(TableReader table)
      throws InvalidConfigException {
    table.ignore(
        "allow_invalid_mounts_on_restart",
        "jsoci always starts and logs each remote snapshot it cannot restore");
    Long minLayerSize = table.integerOrNull("min_layer_size");
    if (minLayerSize == null) {
      return SnapshotterConfig.DEFAULTS;
    }
    if (minLayerSize < 0) {
      throw table.invalid("min_layer_size", "a size in bytes, 0 or more");
    }
    return new SnapshotterConfig(minLayerSize);
  }
}
