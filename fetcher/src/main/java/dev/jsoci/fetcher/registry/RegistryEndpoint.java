package dev.jsoci.fetcher.registry;

import dev.jsoci.oci.Digest;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import okhttp3.HttpUrl;

/**
 * One host that serves a registry's content: the registry itself or a mirror from {@code
 * hosts.toml}, with the URL of its API root and the settings to reach it.
 *
 * @param registry the registry host of image references, for example {@code docker.io}
 * @param apiRoot the API root, ending with {@code /}, for example {@code https://mirror/v2/}
 * @param capabilities the operations this host is used for
 * @param connection the TLS and connect settings
 * @param headers extra request headers from {@code hosts.toml}
 * @param failFast whether a failed request to this host is not sent again, because another host of
 *     the registry comes after it
 */
record RegistryEndpoint(
    String registry,
    HttpUrl apiRoot,
    Set<Capability> capabilities,
    ConnectionSetup connection,
    Map<String, List<String>> headers,
    boolean failFast) {

  /** Creates an endpoint whose failed requests are retried. */
  RegistryEndpoint(
      String registry,
      HttpUrl apiRoot,
      Set<Capability> capabilities,
      ConnectionSetup connection,
      Map<String, List<String>> headers) {
    this(registry, apiRoot, capabilities, connection, headers, false);
  }

  RegistryEndpoint {
    Objects.requireNonNull(registry, "registry");
    if (!apiRoot.encodedPath().endsWith("/")) {
      throw new IllegalArgumentException("apiRoot must end with '/', found " + apiRoot);
    }
    capabilities = capabilities.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(capabilities));
    Objects.requireNonNull(connection, "connection");
    headers = Map.copyOf(headers);
  }

  /** Returns this endpoint with {@link #failFast()} set. */
  RegistryEndpoint failingFast() {
    return new RegistryEndpoint(registry, apiRoot, capabilities, connection, headers, true);
  }

  /** Returns {@code host} or {@code host:port} (port only when it is not the scheme default). */
  String authority() {
    return authorityOf(apiRoot);
  }

  /** Returns {@code host[:port]} of {@code url}, with IPv6 addresses in brackets. */
  static String authorityOf(HttpUrl url) {
    String host = url.host().indexOf(':') >= 0 ? "[" + url.host() + "]" : url.host();
    return url.port() == HttpUrl.defaultPort(url.scheme()) ? host : host + ":" + url.port();
  }

  /**
   * Returns whether requests to this host carry {@code ?ns=<registry>}, which containerd adds when
   * the host is not the registry itself so that a mirror serving several registries can tell them
   * apart.
   */
  boolean addsNamespace() {
    return !authority().equals(registry);
  }

  HttpUrl manifestUrl(String repository, String reference) {
    return url(repository, "manifests", reference);
  }

  /** Returns the referrers API URL of {@code subject}, filtered by {@code artifactType}. */
  HttpUrl referrersUrl(String repository, Digest subject, String artifactType) {
    return url(repository, "referrers", subject.toString())
        .newBuilder()
        .addQueryParameter("artifactType", artifactType)
        .build();
  }

  HttpUrl blobUrl(String repository, Digest digest) {
    return url(repository, "blobs", digest.toString());
  }

  HttpUrl uploadsUrl(String repository) {
    return url(repository, "blobs", "uploads", "");
  }

  private HttpUrl url(String repository, String... segments) {
    HttpUrl.Builder builder = apiRoot.newBuilder().addPathSegments(repository);
    for (String segment : segments) {
      builder.addPathSegment(segment);
    }
    if (addsNamespace()) {
      builder.addQueryParameter("ns", registry);
    }
    return builder.build();
  }

  @Override
  public String toString() {
    return "RegistryEndpoint{"
        + RegistryException.withoutQuery(apiRoot)
        + ", "
        + capabilities
        + "}";
  }
}
