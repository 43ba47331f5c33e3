package dev.jsoci.fetcher.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import okhttp3.HttpUrl;
import okhttp3.Response;

/**
 * Turns failed registry responses into exceptions, with the error list of the body when the body
 * follows the OCI distribution-spec error format.
 */
final class ErrorResponses {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Error bodies are short; more than this is not read. */
  private static final long MAX_ERROR_BODY_BYTES = 64 * 1024;

  private ErrorResponses() {}

  /** Returns the registry errors in the body of {@code response}, without consuming it. */
  static List<RegistryError> errorsOf(Response response) {
    List<RegistryError> errors = new ArrayList<>();
    try {
      byte[] body = response.peekBody(MAX_ERROR_BODY_BYTES).bytes();
      if (body.length == 0) {
        return errors;
      }
      JsonNode json = JSON.readTree(body);
      if (json == null) {
        return errors;
      }
      for (JsonNode error : json.path("errors")) {
        errors.add(
            new RegistryError(error.path("code").asText(""), error.path("message").asText("")));
      }
    } catch (IOException | RuntimeException e) {
      // Not JSON, or a body that cannot be read: the status alone describes the failure.
    }
    return errors;
  }

  /**
   * Returns the exception for {@code response}: an {@link AuthenticationException} for 401 and 403,
   * a {@link RegistryException} otherwise. Closes the response.
   *
   * @param description what failed, for example {@code cannot read manifest 127.0.0.1:5000/app:1}
   * @param registryHost the host named in the advice of an authentication failure
   */
  static RegistryException failure(String description, Response response, String registryHost) {
    try (response) {
      List<RegistryError> errors = errorsOf(response);
      String method = response.request().method();
      int status = response.code();
      if (status == 401 || status == 403) {
        return new AuthenticationException(
            description, method, response.request().url(), status, errors, registryHost);
      }
      HttpUrl url = response.request().url();
      String advice = sentHttpToHttps(response) ? httpsAdvice(url) : "";
      return new RegistryException(description, method, url, status, errors, null, advice);
    }
  }

  /**
   * Returns whether the response is a TLS server's response to a plain HTTP request: Go's servers,
   * the Distribution registry among them, send status 400 with this text.
   */
  private static boolean sentHttpToHttps(Response response) {
    if (response.code() != 400 || response.request().isHttps()) {
      return false;
    }
    try {
      String body = response.peekBody(MAX_ERROR_BODY_BYTES).string();
      return body.contains("HTTP request to an HTTPS server");
    } catch (IOException e) {
      return false;
    }
  }

  private static String httpsAdvice(HttpUrl url) {
    String host = RegistryEndpoint.authorityOf(url);
    return host
        + " serves HTTPS only and was reached over plain HTTP; set server = \"https://"
        + host
        + "\" in its hosts.toml and leave out --plain-http (localhost and loopback registries get"
        + " plain HTTP unless their hosts.toml says otherwise)";
  }
}
