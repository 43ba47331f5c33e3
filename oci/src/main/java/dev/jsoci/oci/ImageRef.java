package dev.jsoci.oci;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A normalised image reference {@code registry/repository[:tag][@digest]}, as Docker and containerd
 * resolve names like {@code busybox} to {@code docker.io/library/busybox:latest}.
 *
 * <p>{@link #parse(String)} follows {@code ParseDockerRef} of github.com/distribution/reference,
 * which containerd v2 uses, except that a reference with both a tag and a digest keeps its tag
 * here. The grammar:
 *
 * <pre>
 * reference  := [host[:port]/]repository[:tag][@digest]
 * host       := domain-component ('.' domain-component)* | '[' IPv6 hex and ':' ']'
 * domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
 * repository := path-component ('/' path-component)*
 * path-component := [a-z0-9]+ (separator [a-z0-9]+)*,  separator := '.' | '_' | '__' | '-'+
 * tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 * </pre>
 *
 * @param registryHost the registry, with its port if any, for example {@code docker.io} or {@code
 *     localhost:5000}
 * @param repository the repository path, for example {@code library/busybox}
 * @param tag the tag, or null when the reference names only a digest
 * @param digest the manifest digest, or null
 */
public record ImageRef(
    String registryHost, String repository, @Nullable String tag, @Nullable Digest digest) {

  /** The registry of names without one. */
  public static final String DOCKER_HUB = "docker.io";

  private static final String LEGACY_DOCKER_HUB = "index.docker.io";
  private static final String OFFICIAL_REPOSITORY_PREFIX = "library/";
  private static final String DEFAULT_TAG = "latest";
  private static final int MAX_NAME_LENGTH = 255;

  private static final String DOMAIN_COMPONENT =
      "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
  private static final Pattern HOST =
      Pattern.compile(
          "(?:"
              + DOMAIN_COMPONENT
              + "(?:\\."
              + DOMAIN_COMPONENT
              + ")*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?");
  private static final String PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
  private static final Pattern REPOSITORY =
      Pattern.compile(PATH_COMPONENT + "(?:/" + PATH_COMPONENT + ")*");
  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

  /** The digest syntax references accept, before the algorithm and length are checked. */
  private static final Pattern DIGEST_SYNTAX =
      Pattern.compile("[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}");

  private static final Pattern IMAGE_ID = Pattern.compile("[a-f0-9]{64}");

  /**
   * Checks every component.
   *
   * @throws IllegalArgumentException naming the invalid component, or when there is neither a tag
   *     nor a digest
   */
  public ImageRef {
    Objects.requireNonNull(registryHost, "registryHost");
    Objects.requireNonNull(repository, "repository");
    String problem = problemWith(registryHost, repository, tag);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    if (tag == null && digest == null) {
      throw new IllegalArgumentException("an image reference needs a tag or a digest");
    }
  }

  /**
   * Parses and normalises {@code reference}.
   *
   * <ul>
   *   <li>The first path component is the registry host when it is {@code localhost}, contains a
   *       {@code .} or {@code :}, or contains an uppercase letter. Otherwise the registry is {@code
   *       docker.io}.
   *   <li>{@code index.docker.io} becomes {@code docker.io}, and a Docker Hub repository without a
   *       {@code /} gets the prefix {@code library/}.
   *   <li>A reference with neither tag nor digest gets the tag {@code latest}.
   * </ul>
   *
   * <p>NOTE: a first component that contains a {@code .} but is not a valid host, such as {@code
   * a_b.c/app}, is rejected here. Go's parser then reads the whole name as a repository without a
   * registry.
   *
   * @throws IllegalArgumentException naming the reference and what is wrong with it
   */
  public static ImageRef parse(String reference) {
    try {
      return normalize(reference);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "invalid image reference \"" + reference + "\": " + e.getMessage(), e);
    }
  }

  /** Returns {@code registryHost/repository}. */
  public String name() {
    return registryHost + "/" + repository;
  }

  /**
   * Returns what to put after {@code /v2/<repository>/manifests/} to fetch this image: the digest
   * when there is one, otherwise the tag.
   */
  public String manifestReference() {
    return digest != null ? digest.toString() : Objects.requireNonNull(tag);
  }

  /** Returns {@code registryHost/repository[:tag][@digest]}. */
  @Override
  public String toString() {
    StringBuilder text = new StringBuilder(name());
    if (tag != null) {
      text.append(':').append(tag);
    }
    if (digest != null) {
      text.append('@').append(digest);
    }
    return text.toString();
  }

  private static ImageRef normalize(String reference) {
    if (reference.isEmpty()) {
      throw new IllegalArgumentException("reference is empty");
    }
    if (IMAGE_ID.matcher(reference).matches()) {
      throw new IllegalArgumentException(
          "a 64-character hex string is an image ID, not a repository name");
    }

    // Split off the registry host.
    String host = DOCKER_HUB;
    String remainder = reference;
    int slash = reference.indexOf('/');
    if (slash >= 0) {
      String first = reference.substring(0, slash);
      boolean isHost =
          first.equals("localhost")
              || first.indexOf('.') >= 0
              || first.indexOf(':') >= 0
              || !first.toLowerCase(Locale.ROOT).equals(first);
      if (isHost) {
        host = first.equals(LEGACY_DOCKER_HUB) ? DOCKER_HUB : first;
        remainder = reference.substring(slash + 1);
      }
    }
    if (host.equals(DOCKER_HUB) && remainder.indexOf('/') < 0) {
      remainder = OFFICIAL_REPOSITORY_PREFIX + remainder;
    }

    // The repository cannot contain ':' or '@', so the first '@' starts the digest and the first
    // ':' before it starts the tag.
    int at = remainder.indexOf('@');
    String nameAndTag = at < 0 ? remainder : remainder.substring(0, at);
    @Nullable String digestText = at < 0 ? null : remainder.substring(at + 1);
    int colon = nameAndTag.indexOf(':');
    String repository = colon < 0 ? nameAndTag : nameAndTag.substring(0, colon);
    @Nullable String tag = colon < 0 ? null : nameAndTag.substring(colon + 1);

    if (!repository.toLowerCase(Locale.ROOT).equals(repository)) {
      throw new IllegalArgumentException("repository name must be lowercase");
    }
    String problem = problemWith(host, repository, tag);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    @Nullable Digest digest = digestText == null ? null : parseDigest(digestText);

    if (tag == null && digest == null) {
      tag = DEFAULT_TAG;
    }
    return new ImageRef(host, repository, tag, digest);
  }

  private static Digest parseDigest(String text) {
    if (!DIGEST_SYNTAX.matcher(text).matches()) {
      throw new IllegalArgumentException(
          "invalid digest \"" + text + "\": expected <algorithm>:<at least 32 hex digits>");
    }
    String problem = Digest.problemWith(text);
    if (problem != null) {
      throw new IllegalArgumentException("invalid digest \"" + text + "\": " + problem);
    }
    return Digest.parse(text);
  }

  private static @Nullable String problemWith(
      String registryHost, String repository, @Nullable String tag) {
    if (!HOST.matcher(registryHost).matches()) {
      return "invalid registry host \"" + registryHost + "\"";
    }
    if (!REPOSITORY.matcher(repository).matches()) {
      return "invalid repository name \""
          + repository
          + "\": expected lowercase letters and digits separated by '/', '.', '_', '__' or '-'";
    }
    int nameLength = registryHost.length() + 1 + repository.length();
    if (nameLength > MAX_NAME_LENGTH) {
      return "name \""
          + registryHost
          + "/"
          + repository
          + "\" is "
          + nameLength
          + " characters long, the maximum is "
          + MAX_NAME_LENGTH;
    }
    if (tag != null && !TAG.matcher(tag).matches()) {
      return "invalid tag \""
          + tag
          + "\": expected 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'";
    }
    return null;
  }
}
