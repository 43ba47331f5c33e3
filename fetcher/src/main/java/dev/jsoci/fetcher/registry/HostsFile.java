package dev.jsoci.fetcher.registry;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one containerd {@code hosts.toml} file into the ordered list of endpoints for a registry.
 *
 * <p>The file has top-level keys for the default server and {@code [host."<url>"]} tables for other
 * hosts, tried in file order before the server:
 *
 * <ul>
 *   <li>{@code server}: the URL of the registry's own origin, tried last; when absent the origin is
 *       {@code https://<registry>} (Docker Hub: {@code https://registry-1.docker.io}).
 *   <li>{@code capabilities}: an array of {@code pull}, {@code resolve} and {@code push}; all three
 *       when absent.
 *   <li>{@code ca}: a path or an array of paths of PEM CA certificates.
 *   <li>{@code client}: a path, an array of paths, or an array of {@code [cert, key]} pairs; a path
 *       alone or an empty key means the key is in the certificate file.
 *   <li>{@code skip_verify}: do not verify the server certificate.
 *   <li>{@code [header]}: header names to a string or an array of strings.
 *   <li>{@code override_path}: the URL path is the API root as is; otherwise {@code /v2} is
 *       appended to it.
 *   <li>{@code dial_timeout}: a Go duration such as {@code "500ms"} or {@code "1m30s"}.
 * </ul>
 *
 * <p>Relative paths are resolved against the file's directory. A host written without a scheme gets
 * {@code http} when it is {@code localhost} or a loopback address and {@code https} otherwise.
 * Unknown keys are ignored, as containerd does.
 *
 * <p>NOTE: {@code proxy} is not supported. A file that sets it is read without it and a warning is
 * logged.
 */
final class HostsFile {
  private static final Logger logger = LoggerFactory.getLogger(HostsFile.class);
  private static final TomlMapper TOML = new TomlMapper();

  /** The keys of a host table, as containerd reads them. A proxy key is read but not supported. */
  private static final Set<String> HOST_KEYS =
      Set.of(
          "capabilities",
          "skip_verify",
          "ca",
          "client",
          "header",
          "override_path",
          "dial_timeout",
          "proxy");

  /** The keys of the top level: those of a host table for the server, and the tables. */
  private static final Set<String> ROOT_KEYS =
      Stream.concat(HOST_KEYS.stream(), Stream.of("server", "host")).collect(Collectors.toSet());

  /** A host name, IPv4 address or bracketed IPv6 address, with an optional port. */
  private static final Pattern HOST_AND_PORT =
      Pattern.compile(
          "(\\[[0-9A-Fa-f:.]+]|[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)(:[0-9]{1,5})?");

  private static final Pattern GO_DURATION_PART =
      Pattern.compile("([0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)");

  private HostsFile() {}

  /**
   * Reads {@code file} and returns the endpoints of {@code registry}, hosts first and the server
   * last.
   *
   * @throws HostsConfigException naming the file and the key when the file is invalid
   */
  static List<RegistryEndpoint> read(Path file, String registry, boolean plainHttp)
      throws HostsConfigException {
    JsonNode root;
    try {
      root = TOML.readTree(Files.readAllBytes(file));
    } catch (JacksonException e) {
      throw new HostsConfigException(file, describe(e), e);
    } catch (IOException e) {
      throw new HostsConfigException(file, "cannot read: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      root = TOML.createObjectNode();
    }
    Path directory = file.toAbsolutePath().getParent();
    Reader reader = new Reader(file, directory, registry, plainHttp);

    List<RegistryEndpoint> endpoints = new ArrayList<>();
    JsonNode hosts = root.path("host");
    if (!hosts.isMissingNode() && !hosts.isObject()) {
      throw new HostsConfigException(file, "host: expected tables [host.\"<url>\"]");
    }
    for (Map.Entry<String, JsonNode> host : hosts.properties()) {
      String where = "host.\"" + host.getKey() + "\"";
      if (!host.getValue().isObject()) {
        throw new HostsConfigException(file, where + ": expected a table");
      }
      warnUnknownKeys(file, where + ".", host.getValue(), HOST_KEYS);
      endpoints.add(reader.endpoint(where, host.getKey(), host.getValue()));
    }

    warnUnknownKeys(file, "", root, ROOT_KEYS);
    JsonNode server = root.path("server");
    if (!server.isMissingNode() && !server.isTextual()) {
      throw new HostsConfigException(file, "server: expected a string URL");
    }
    String serverUrl = server.isTextual() ? server.asText() : originUrl(registry);
    endpoints.add(reader.endpoint("server", serverUrl, root));
    return endpoints;
  }

  /**
   * Logs a warning for each key of {@code table} that is not in {@code known}, such as a misspelt
   * {@code skip_verfy}, which would otherwise leave the setting at its default without a warning.
   */
  private static void warnUnknownKeys(Path file, String prefix, JsonNode table, Set<String> known) {
    for (Map.Entry<String, JsonNode> entry : table.properties()) {
      if (!known.contains(entry.getKey())) {
        logger.warn("ignoring unknown key file={} key={}{}", file, prefix, entry.getKey());
      }
    }
  }

  /** Returns the default origin URL of {@code registry}, without hosts.toml. */
  static String originUrl(String registry) {
    String host = DockerCredentialStore.isDockerHub(registry) ? "registry-1.docker.io" : registry;
    return defaultScheme(host) + "://" + host;
  }

  /** Returns {@code http} for localhost and loopback addresses (any port), else {@code https}. */
  static String defaultScheme(String authority) {
    String host = authority;
    if (host.startsWith("[")) {
      int close = host.indexOf(']');
      host = close > 0 ? host.substring(1, close) : host;
    } else if (host.indexOf(':') == host.lastIndexOf(':') && host.indexOf(':') >= 0) {
      host = host.substring(0, host.indexOf(':'));
    }
    return isLoopback(host) ? "http" : "https";
  }

  private static boolean isLoopback(String host) {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    // Only IP literals are checked, so no name is looked up in DNS.
    boolean literal = host.indexOf(':') >= 0 || host.matches("[0-9.]+");
    if (!literal) {
      return false;
    }
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static String describe(JacksonException e) {
    JsonLocation location = e.getLocation();
    String where =
        location == null || location.getLineNr() < 1
            ? ""
            : "line " + location.getLineNr() + ", column " + location.getColumnNr() + ": ";
    return "invalid TOML: " + where + e.getOriginalMessage();
  }

  /** Parses a Go duration string such as {@code 1m30s} or {@code 250ms}. */
  static Duration parseGoDuration(String text) {
    if (text.equals("0")) {
      return Duration.ZERO;
    }
    Matcher matcher = GO_DURATION_PART.matcher(text);
    long nanos = 0;
    int position = 0;
    while (position < text.length()) {
      if (!matcher.find(position) || matcher.start() != position) {
        throw new IllegalArgumentException(
            "invalid duration \""
                + text
                + "\": expected numbers with units such as 500ms or 1m30s");
      }
      double value = Double.parseDouble(matcher.group(1));
      long unitNanos;
      switch (matcher.group(2)) {
        case "ns":
          unitNanos = 1;
          break;
        case "us":
        case "µs":
        case "μs":
          unitNanos = 1_000;
          break;
        case "ms":
          unitNanos = 1_000_000;
          break;
        case "s":
          unitNanos = 1_000_000_000L;
          break;
        case "m":
          unitNanos = 60_000_000_000L;
          break;
        default:
          unitNanos = 3_600_000_000_000L;
          break;
      }
      nanos += (long) (value * unitNanos);
      position = matcher.end();
    }
    if (position == 0) {
      throw new IllegalArgumentException("invalid duration \"" + text + "\": empty");
    }
    return Duration.ofNanos(nanos);
  }

  /** Turns the keys of one host table (or the top level, for the server) into an endpoint. */
  private static final class Reader {
    private final Path file;
    private final Path directory;
    private final String registry;
    private final boolean plainHttp;

    Reader(Path file, Path directory, String registry, boolean plainHttp) {
      this.file = file;
      this.directory = directory;
      this.registry = registry;
      this.plainHttp = plainHttp;
    }

    RegistryEndpoint endpoint(String where, String url, JsonNode table)
        throws HostsConfigException {
      if (table.has("proxy")) {
        logger.warn("ignoring unsupported key file={} key={}.proxy", file, where);
      }
      HttpUrl apiRoot = apiRoot(where, url, table.path("override_path"));
      Set<Capability> capabilities = capabilities(where, table.path("capabilities"));
      boolean skipVerify = bool(where + ".skip_verify", table.path("skip_verify"));
      List<Path> caFiles = new ArrayList<>();
      for (String path : strings(where + ".ca", table.path("ca"))) {
        caFiles.add(directory.resolve(path));
      }
      List<ConnectionSetup.ClientCertificate> clients =
          clientCertificates(where + ".client", table.path("client"));
      Duration connectTimeout = dialTimeout(where + ".dial_timeout", table.path("dial_timeout"));
      Map<String, List<String>> headers = headers(where + ".header", table.path("header"));
      ConnectionSetup connection =
          new ConnectionSetup(skipVerify, caFiles, clients, connectTimeout, null);
      return new RegistryEndpoint(registry, apiRoot, capabilities, connection, headers);
    }

    private HttpUrl apiRoot(String where, String text, JsonNode overridePath)
        throws HostsConfigException {
      String withScheme =
          text.contains("://") ? text : defaultScheme(authorityPart(text)) + "://" + text;
      HttpUrl url = HttpUrl.parse(withScheme);
      // Without a scheme, "htp:/host" would be parsed as the host "htp" with an empty port.
      if (url == null
          || (!text.contains("://") && !HOST_AND_PORT.matcher(authorityPart(text)).matches())) {
        throw new HostsConfigException(
            file, where + ": invalid URL \"" + text + "\", expected http(s)://host[:port][/path]");
      }
      if (url.host().equals("docker.io")) {
        url = url.newBuilder().host("registry-1.docker.io").build();
      }
      if (plainHttp && url.scheme().equals("https")) {
        url = url.newBuilder().scheme("http").build();
      }

      HttpUrl.Builder builder = url.newBuilder().query(null).fragment(null);
      if (!bool(where + ".override_path", overridePath)) {
        builder.addPathSegment("v2");
      }
      HttpUrl root = builder.build();
      if (!root.encodedPath().endsWith("/")) {
        root = root.newBuilder().addPathSegment("").build();
      }
      return root;
    }

    private static String authorityPart(String text) {
      int slash = text.indexOf('/');
      return slash < 0 ? text : text.substring(0, slash);
    }

    private Set<Capability> capabilities(String where, JsonNode node) throws HostsConfigException {
      if (node.isMissingNode()) {
        return EnumSet.allOf(Capability.class);
      }
      Set<Capability> capabilities = EnumSet.noneOf(Capability.class);
      for (String name : strings(where + ".capabilities", node)) {
        Capability capability = Capability.parse(name);
        if (capability == null) {
          throw new HostsConfigException(
              file,
              where
                  + ".capabilities: unknown capability \""
                  + name
                  + "\", expected pull, resolve or push");
        }
        capabilities.add(capability);
      }
      return capabilities;
    }

    private List<ConnectionSetup.ClientCertificate> clientCertificates(String key, JsonNode node)
        throws HostsConfigException {
      List<ConnectionSetup.ClientCertificate> result = new ArrayList<>();
      if (node.isMissingNode()) {
        return result;
      }
      List<JsonNode> items = new ArrayList<>();
      if (node.isArray()) {
        node.forEach(items::add);
      } else {
        items.add(node);
      }
      for (JsonNode item : items) {
        if (item.isTextual()) {
          Path certificate = directory.resolve(item.asText());
          result.add(new ConnectionSetup.ClientCertificate(certificate, certificate));
        } else if (item.isArray()
            && item.size() == 2
            && item.get(0).isTextual()
            && item.get(1).isTextual()) {
          Path certificate = directory.resolve(item.get(0).asText());
          String keyText = item.get(1).asText();
          Path keyFile = keyText.isEmpty() ? certificate : directory.resolve(keyText);
          result.add(new ConnectionSetup.ClientCertificate(certificate, keyFile));
        } else {
          throw new HostsConfigException(
              file, key + ": expected a path, an array of paths or an array of [cert, key] pairs");
        }
      }
      return result;
    }

    private @Nullable Duration dialTimeout(String key, JsonNode node) throws HostsConfigException {
      if (node.isMissingNode()) {
        return null;
      }
      if (!node.isTextual()) {
        throw new HostsConfigException(file, key + ": expected a duration string such as \"1s\"");
      }
      try {
        Duration timeout = parseGoDuration(node.asText());
        return timeout.isZero() ? null : timeout;
      } catch (IllegalArgumentException e) {
        throw new HostsConfigException(file, key + ": " + e.getMessage());
      }
    }

    private Map<String, List<String>> headers(String key, JsonNode node)
        throws HostsConfigException {
      Map<String, List<String>> headers = new LinkedHashMap<>();
      if (node.isMissingNode()) {
        return headers;
      }
      if (!node.isObject()) {
        throw new HostsConfigException(file, key + ": expected a table of header names");
      }
      for (Map.Entry<String, JsonNode> header : node.properties()) {
        // Header values can be credentials, so an invalid one is not quoted in the message.
        headers.put(
            header.getKey(), strings(key + "." + header.getKey(), header.getValue(), false));
      }
      return headers;
    }

    private boolean bool(String key, JsonNode node) throws HostsConfigException {
      if (node.isMissingNode()) {
        return false;
      }
      if (!node.isBoolean()) {
        throw new HostsConfigException(file, key + ": expected true or false, found " + node);
      }
      return node.booleanValue();
    }

    private List<String> strings(String key, JsonNode node) throws HostsConfigException {
      return strings(key, node, true);
    }

    /**
     * Reads a string or an array of strings.
     *
     * @param quoteValue whether the error message shows the invalid value
     */
    private List<String> strings(String key, JsonNode node, boolean quoteValue)
        throws HostsConfigException {
      if (node.isMissingNode()) {
        return List.of();
      }
      if (node.isTextual()) {
        return List.of(node.asText());
      }
      List<String> values = new ArrayList<>();
      if (node.isArray()) {
        for (JsonNode item : node) {
          if (!item.isTextual()) {
            break;
          }
          values.add(item.asText());
        }
        if (values.size() == node.size()) {
          return values;
        }
      }
      throw new HostsConfigException(
          file,
          key
              + ": expected a string or an array of strings, found "
              + (quoteValue ? node.toString() : "another type (value not shown)"));
    }
  }

  /**
   * Returns the endpoint of a host directory without {@code hosts.toml}, in Docker's certificate
   * layout: {@code *.crt} files are CA certificates, and each {@code <name>.cert} with a {@code
   * <name>.key} is a client certificate.
   */
  static RegistryEndpoint fromCertificateDirectory(
      Path directory, String registry, boolean plainHttp) throws IOException {
    List<Path> caFiles = new ArrayList<>();
    List<ConnectionSetup.ClientCertificate> clients = new ArrayList<>();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path path : (Iterable<Path>) files.sorted()::iterator) {
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".crt")) {
          caFiles.add(path);
        } else if (name.endsWith(".cert")) {
          String base = path.getFileName().toString();
          Path key = path.resolveSibling(base.substring(0, base.length() - 5) + ".key");
          if (Files.exists(key)) {
            clients.add(new ConnectionSetup.ClientCertificate(path, key));
          }
        }
      }
    }
    RegistryEndpoint origin = HostsDirectory.origin(registry, plainHttp);
    return new RegistryEndpoint(
        registry,
        origin.apiRoot(),
        origin.capabilities(),
        new ConnectionSetup(false, caFiles, clients, null, null),
        Map.of());
  }
}
