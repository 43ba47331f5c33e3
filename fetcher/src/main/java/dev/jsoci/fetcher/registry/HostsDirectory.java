package dev.jsoci.fetcher.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the endpoints of a registry: the mirrors of the client's settings, then the hosts of a
 * directory of containerd {@code hosts.toml} files.
 *
 * <p>For registry {@code host:port} the namespace directories {@code host_port_}, {@code host:port}
 * and {@code _default} are tried in this order (without a port: {@code host} and {@code _default}),
 * and the first one that exists is used: its {@code hosts.toml}, or Docker's certificate files when
 * it has none. Without any, the registry's origin is the only endpoint. Files are read again when
 * their modification time or size changes. Thread-safe.
 */
final class HostsDirectory {
  private static final Logger logger = LoggerFactory.getLogger(HostsDirectory.class);

  private static final String DEFAULT_NAMESPACE = "_default";
  private static final String HOSTS_FILE = "hosts.toml";

  private final @Nullable Path directory;
  private final boolean plainHttp;
  private final Map<String, List<RegistryEndpoint>> mirrors;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();
  private final Clock clock;

  /** Hosts that could not be reached, by API root, with the time until which they are skipped. */
  private final Map<HttpUrl, Instant> unreachableUntil = new ConcurrentHashMap<>();

  /**
   * How long a host that could not be reached is skipped while a later host of its registry
   * remains. A blackholed mirror would otherwise cost a connect timeout on every request.
   */
  static final Duration UNREACHABLE_SKIP = Duration.ofSeconds(30);

  private record Cached(
      @Nullable Path file,
      @Nullable FileTime modified,
      long size,
      List<RegistryEndpoint> endpoints) {}

  HostsDirectory(@Nullable Path directory, boolean plainHttp) {
    this(directory, plainHttp, Map.of(), Clock.systemUTC());
  }

  /**
   * @param mirrors mirrors by the registry host they serve, tried in order before the hosts of
   *     {@code directory}
   * @param clock the time source of {@link #UNREACHABLE_SKIP}
   */
  HostsDirectory(
      @Nullable Path directory,
      boolean plainHttp,
      Map<String, List<RegistryMirror>> mirrors,
      Clock clock) {
    this.directory = directory;
    this.plainHttp = plainHttp;
    this.clock = clock;
    Map<String, List<RegistryEndpoint>> endpoints = new HashMap<>();
    mirrors.forEach(
        (registry, list) ->
            endpoints.put(
                registry,
                list.stream().map(mirror -> mirror(registry, mirror, plainHttp)).toList()));
    this.mirrors = Map.copyOf(endpoints);
  }

  /**
   * Returns the endpoints of {@code registry} in the order they are tried: the configured mirrors,
   * then the hosts of its {@code hosts.toml}, the origin last.
   *
   * @param registry the registry host of an image reference, for example {@code docker.io}
   * @throws IOException if the applicable {@code hosts.toml} is invalid or unreadable
   */
  List<RegistryEndpoint> endpointsFor(String registry) throws IOException {
    List<RegistryEndpoint> configured = mirrors.getOrDefault(registry, List.of());
    List<RegistryEndpoint> hosts = hostsFor(registry);
    if (configured.isEmpty()) {
      return hosts;
    }
    List<RegistryEndpoint> all = new ArrayList<>(configured);
    all.addAll(hosts);
    return List.copyOf(all);
  }

  private List<RegistryEndpoint> hostsFor(String registry) throws IOException {
    @Nullable Path namespace = findNamespace(registry);
    @Nullable Path file = namespace == null ? null : namespace.resolve(HOSTS_FILE);
    boolean hasFile = file != null && Files.isRegularFile(file);
    @Nullable FileTime modified = hasFile ? Files.getLastModifiedTime(file) : null;
    long size = hasFile ? Files.size(file) : -1;

    Cached cached = cache.get(registry);
    boolean fresh =
        cached != null
            && java.util.Objects.equals(cached.file, hasFile ? file : namespace)
            && java.util.Objects.equals(cached.modified, modified)
            && cached.size == size;
    if (fresh) {
      return cached.endpoints;
    }

    List<RegistryEndpoint> endpoints;
    if (hasFile) {
      endpoints = HostsFile.read(file, registry, plainHttp);
    } else if (namespace != null) {
      endpoints = List.of(HostsFile.fromCertificateDirectory(namespace, registry, plainHttp));
    } else {
      endpoints = List.of(origin(registry, plainHttp));
    }
    cache.put(registry, new Cached(hasFile ? file : namespace, modified, size, endpoints));
    return endpoints;
  }

  /**
   * Returns the endpoint that pushes to {@code registry} go to: the first with the {@code push}
   * capability, which is the server unless its hosts.toml names another host.
   */
  RegistryEndpoint pushEndpoint(String registry) throws IOException {
    return endpointsFor(registry, Capability.PUSH).get(0);
  }

  /** Returns the endpoints of {@code registry} that have {@code capability}, in order. */
  List<RegistryEndpoint> endpointsFor(String registry, Capability capability) throws IOException {
    List<RegistryEndpoint> result = new ArrayList<>();
    for (RegistryEndpoint endpoint : endpointsFor(registry)) {
      if (endpoint.capabilities().contains(capability)) {
        result.add(endpoint);
      }
    }
    if (result.isEmpty()) {
      throw new RegistryException(
          "no host of registry "
              + registry
              + " has the "
              + capability.tomlName()
              + " capability; check the capabilities in its hosts.toml");
    }
    return result;
  }

  /**
   * Returns {@code endpoints} without the hosts that could not be reached within {@link
   * #UNREACHABLE_SKIP}, keeping the last one in any case, so that something is always tried.
   */
  List<RegistryEndpoint> reachable(List<RegistryEndpoint> endpoints) {
    if (unreachableUntil.isEmpty() || endpoints.size() < 2) {
      return endpoints;
    }
    Instant now = clock.instant();
    List<RegistryEndpoint> result = new ArrayList<>(endpoints.size());
    for (int i = 0; i < endpoints.size(); i++) {
      RegistryEndpoint endpoint = endpoints.get(i);
      Instant until = unreachableUntil.get(endpoint.apiRoot());
      if (i == endpoints.size() - 1 || until == null || !now.isBefore(until)) {
        result.add(endpoint);
      }
    }
    return result;
  }

  /** Skips {@code endpoint} for {@link #UNREACHABLE_SKIP} while a later host remains. */
  void markUnreachable(RegistryEndpoint endpoint, IOException failure) {
    Instant previous =
        unreachableUntil.put(endpoint.apiRoot(), clock.instant().plus(UNREACHABLE_SKIP));
    if (previous == null || !clock.instant().isBefore(previous)) {
      logger
          .atInfo()
          .addKeyValue("host", endpoint.authority())
          .addKeyValue("registry", endpoint.registry())
          .addKeyValue("skip_seconds", UNREACHABLE_SKIP.toSeconds())
          .addKeyValue("error", failure.getMessage())
          .log("registry host cannot be reached; the next host of the registry is used");
    }
  }

  private @Nullable Path findNamespace(String registry) {
    return directory == null ? null : findNamespace(directory, registry);
  }

  /**
   * Returns the {@code hosts.toml} under {@code directory} that configures {@code registry}: the
   * file of the first namespace directory that exists, or the one a user would create for it.
   */
  static Path hostsFile(Path directory, String registry) {
    Path namespace = findNamespace(directory, registry);
    return (namespace == null ? directory.resolve(registry) : namespace).resolve(HOSTS_FILE);
  }

  private static @Nullable Path findNamespace(Path directory, String registry) {
    List<String> names = new ArrayList<>();
    int colon = registry.lastIndexOf(':');
    boolean hasPort = colon > 0 && registry.indexOf(']') < colon;
    if (hasPort) {
      names.add(registry.substring(0, colon) + "_" + registry.substring(colon + 1) + "_");
    }
    names.add(registry);
    names.add(DEFAULT_NAMESPACE);
    for (String name : names) {
      Path candidate = directory.resolve(name);
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
    }
    return null;
  }

  /**
   * Returns whether {@code endpoint} is one of the mirrors of {@link RegistryOptions#mirrors()},
   * which take no TLS settings, rather than a host of a {@code hosts.toml}.
   */
  static boolean isConfiguredMirror(RegistryOptions options, RegistryEndpoint endpoint) {
    for (RegistryMirror mirror : options.mirrors().getOrDefault(endpoint.registry(), List.of())) {
      if (mirror(endpoint.registry(), mirror, options.plainHttp())
          .apiRoot()
          .equals(endpoint.apiRoot())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Returns the endpoint of a configured mirror: pulls and resolution, over plain HTTP when the
   * client or the mirror requests it, else over the mirror's scheme, else over HTTP for localhost
   * and loopback addresses and HTTPS elsewhere.
   */
  private static RegistryEndpoint mirror(
      String registry, RegistryMirror mirror, boolean plainHttp) {
    String scheme;
    if (plainHttp || mirror.plainHttp()) {
      scheme = "http";
    } else if (mirror.scheme() != null) {
      scheme = mirror.scheme();
    } else {
      scheme = HostsFile.defaultScheme(mirror.host());
    }
    String path = mirror.apiPath().isEmpty() ? "/v2" : mirror.apiPath();
    HttpUrl apiRoot = HttpUrl.get(scheme + "://" + mirror.host() + path + "/");
    return new RegistryEndpoint(
        registry,
        apiRoot,
        EnumSet.of(Capability.PULL, Capability.RESOLVE),
        new ConnectionSetup(false, List.of(), List.of(), null, mirror.callTimeout()),
        Map.of());
  }

  /** Returns the endpoint of the registry's own origin, with all capabilities. */
  static RegistryEndpoint origin(String registry, boolean plainHttp) {
    HttpUrl url = HttpUrl.get(HostsFile.originUrl(registry));
    if (plainHttp) {
      url = url.newBuilder().scheme("http").build();
    }
    HttpUrl apiRoot = url.newBuilder().addPathSegment("v2").addPathSegment("").build();
    return new RegistryEndpoint(
        registry, apiRoot, EnumSet.allOf(Capability.class), ConnectionSetup.DEFAULT, Map.of());
  }
}
