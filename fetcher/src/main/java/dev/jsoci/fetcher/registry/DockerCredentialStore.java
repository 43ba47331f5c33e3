package dev.jsoci.fetcher.registry;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Credentials from a Docker client configuration file ({@code config.json}), as {@code docker
 * login} writes it.
 *
 * <p>For a host the store looks, in this order, at {@code credHelpers.<host>} (a {@code
 * docker-credential-<name>} program), then {@code credsStore} (the same kind of program for every
 * host), then the {@code auths.<host>} entry: {@code auth} (base64 of {@code user:password}),
 * {@code username} and {@code password}, or {@code identitytoken}. Docker Hub's hosts ({@code
 * docker.io}, {@code index.docker.io}, {@code registry-1.docker.io}) use the key {@code
 * https://index.docker.io/v1/}. An {@code auths} key may carry a scheme and a path ({@code
 * https://host:5000/v1/}), and only its host and port are compared.
 *
 * <p>A missing file means no credentials. A file that is not valid JSON is logged at WARN and
 * treated as missing. The file is read again on each lookup, so a later {@code docker login} is
 * seen without a restart.
 */
public final class DockerCredentialStore implements CredentialStore {
  private static final Logger logger = LoggerFactory.getLogger(DockerCredentialStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The key {@code docker login} uses for Docker Hub. */
  static final String DOCKER_HUB_KEY = "https://index.docker.io/v1/";

  private static final Duration DEFAULT_HELPER_TIMEOUT = Duration.ofSeconds(10);

  private final Path configFile;
  private final CredentialHelper helpers;

  private DockerCredentialStore(Path configFile, CredentialHelper helpers) {
    this.configFile = configFile;
    this.helpers = helpers;
  }

  /**
   * Returns the store for {@code $DOCKER_CONFIG/config.json}, or {@code ~/.docker/config.json} when
   * {@code DOCKER_CONFIG} is unset, with helper programs found on {@code PATH} and stopped after 10
   * s.
   */
  public static DockerCredentialStore fromEnvironment() {
    String dockerConfig = System.getenv("DOCKER_CONFIG");
    Path directory =
        dockerConfig != null && !dockerConfig.isEmpty()
            ? Path.of(dockerConfig)
            : Path.of(System.getProperty("user.home"), ".docker");
    return of(directory.resolve("config.json"), null, DEFAULT_HELPER_TIMEOUT);
  }

  /**
   * Returns the store for {@code configFile}.
   *
   * @param helperDirectory the directory of {@code docker-credential-<name>} programs, or null to
   *     search {@code PATH}
   * @param helperTimeout how long a helper program may run before it is killed
   */
  public static DockerCredentialStore of(
      Path configFile, @Nullable Path helperDirectory, Duration helperTimeout) {
    Objects.requireNonNull(configFile, "configFile");
    return new DockerCredentialStore(
        configFile, new CredentialHelper(helperDirectory, helperTimeout));
  }

  /** Returns the configuration file this store reads. */
  public Path configFile() {
    return configFile;
  }

  /**
   * {@inheritDoc}
   *
   * @throws IOException if a helper program fails, times out or prints invalid JSON
   */
  @Override
  public Optional<Credentials> lookup(String host) throws IOException {
    @Nullable JsonNode config = readConfig();
    if (config == null) {
      return Optional.empty();
    }
    String key = isDockerHub(host) ? DOCKER_HUB_KEY : host;

    // A helper named for this host wins over everything else.
    JsonNode credHelpers = config.path("credHelpers");
    for (String candidate : List.of(key, host, hostOf(key))) {
      String helper = credHelpers.path(candidate).asText("");
      if (!helper.isEmpty()) {
        return helpers.get(helper, key);
      }
    }

    String credsStore = config.path("credsStore").asText("");
    if (!credsStore.isEmpty()) {
      Optional<Credentials> stored = helpers.get(credsStore, key);
      if (stored.isPresent()) {
        return stored;
      }
    }
    return fromAuths(config.path("auths"), key);
  }

  private @Nullable JsonNode readConfig() throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(configFile);
    } catch (NoSuchFileException e) {
      return null;
    }
    try {
      JsonNode config = JSON.readTree(bytes);
      return config != null && config.isObject() ? config : null;
    } catch (JacksonException e) {
      logger.warn(
          "ignoring Docker config file={}: invalid JSON at line {}",
          configFile,
          e.getLocation() == null ? "?" : e.getLocation().getLineNr());
      return null;
    }
  }

  private Optional<Credentials> fromAuths(JsonNode auths, String key) throws IOException {
    @Nullable JsonNode entry = auths.get(key);
    if (entry == null) {
      String wanted = hostOf(key);
      for (Map.Entry<String, JsonNode> candidate : auths.properties()) {
        if (hostOf(candidate.getKey()).equals(wanted)) {
          entry = candidate.getValue();
          break;
        }
      }
    }
    if (entry == null || !entry.isObject()) {
      return Optional.empty();
    }

    String identityToken = entry.path("identitytoken").asText("");
    String auth = entry.path("auth").asText("");
    String username = entry.path("username").asText("");
    String password = entry.path("password").asText("");
    if (!auth.isEmpty()) {
      String decoded = decodeAuth(auth, key);
      int colon = decoded.indexOf(':');
      if (colon < 0) {
        throw new CredentialConfigException(
            "invalid auths entry for "
                + key
                + " in "
                + configFile
                + ": auth has no ':'; it must be the base64 of USER:PASSWORD");
      }
      username = decoded.substring(0, colon);
      password = decoded.substring(colon + 1);
    }
    if (!identityToken.isEmpty()) {
      return Optional.of(Credentials.identityToken(identityToken));
    }
    if (username.isEmpty() && password.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Credentials(username, password));
  }

  private String decodeAuth(String auth, String key) throws IOException {
    try {
      String decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
      // Some tools pad the value with NUL characters.
      int end = decoded.length();
      while (end > 0 && decoded.charAt(end - 1) == '\0') {
        end--;
      }
      return decoded.substring(0, end);
    } catch (IllegalArgumentException e) {
      throw new CredentialConfigException(
          "invalid auths entry for "
              + key
              + " in "
              + configFile
              + ": auth is not base64; it must be the base64 of USER:PASSWORD",
          e);
    }
  }

  /** Returns whether {@code host} is one of Docker Hub's names. */
  static boolean isDockerHub(String host) {
    return host.equals("docker.io")
        || host.equals("index.docker.io")
        || host.equals("registry-1.docker.io");
  }

  /** Returns the lowercase {@code host[:port]} of an {@code auths} key such as a URL. */
  static String hostOf(String key) {
    String rest = key;
    int scheme = rest.indexOf("://");
    if (scheme >= 0) {
      rest = rest.substring(scheme + 3);
    }
    int slash = rest.indexOf('/');
    if (slash >= 0) {
      rest = rest.substring(0, slash);
    }
    rest = rest.toLowerCase(Locale.ROOT);
    return isDockerHub(rest) ? "index.docker.io" : rest;
  }
}
