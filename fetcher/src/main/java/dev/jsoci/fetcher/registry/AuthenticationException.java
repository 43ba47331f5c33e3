package dev.jsoci.fetcher.registry;

import java.util.List;
import okhttp3.HttpUrl;

/**
 * A registry that rejected the request for lack of valid credentials (status 401, or 403 after the
 * credentials were fetched again), or an authentication challenge without fitting credentials. The
 * message ends with what the user can do about it.
 */
public final class AuthenticationException extends RegistryException {
  private static final long serialVersionUID = 1L;

  AuthenticationException(String message) {
    super(message);
  }

  /** Creates the exception for a 401 or 403 response, ending its message with the advice. */
  AuthenticationException(
      String description,
      String method,
      HttpUrl url,
      int statusCode,
      List<RegistryError> errors,
      String registryHost) {
    super(description, method, url, statusCode, errors, null, advice(registryHost));
  }

  /** Returns the advice for a registry host that requires credentials. */
  static String advice(String registryHost) {
    String loginHost = DockerCredentialStore.isDockerHub(registryHost) ? "docker.io" : registryHost;
    return "run docker login " + loginHost + " or set credentials in DOCKER_CONFIG";
  }
}
