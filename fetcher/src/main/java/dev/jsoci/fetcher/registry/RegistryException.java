package dev.jsoci.fetcher.registry;

import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;
import okhttp3.HttpUrl;
import org.jspecify.annotations.Nullable;

/**
 * A registry request that failed: an unexpected HTTP status, a response that breaks the OCI
 * distribution-spec, or a request that still failed after every retry.
 *
 * <p>When the failure is an HTTP response, {@link #statusCode()}, {@link #method()} and {@link
 * #url()} describe it, and {@link #errors()} contains the registry's error list from the body. URLs
 * never include their query string, because signed object-store URLs carry credentials there.
 */
public class RegistryException extends IOException {
  private static final long serialVersionUID = 1L;

  private final @Nullable String method;
  private final @Nullable String url;
  private final int statusCode;
  private final List<RegistryError> errors;

  /** Creates an exception that is not about one HTTP response. */
  public RegistryException(String message) {
    this(message, null);
  }

  public RegistryException(String message, @Nullable Throwable cause) {
    super(message, cause);
    this.method = null;
    this.url = null;
    this.statusCode = 0;
    this.errors = List.of();
  }

  /**
   * Creates an exception for a response with status {@code statusCode}. The message becomes {@code
   * <description>: <method> <url without query> returned status <code>} followed by the registry's
   * errors in brackets when there are any.
   */
  RegistryException(
      String description,
      String method,
      HttpUrl url,
      int statusCode,
      List<RegistryError> errors,
      @Nullable Throwable cause) {
    this(description, method, url, statusCode, errors, cause, "");
  }

  /**
   * Creates an exception for a response, as above, with {@code advice} (what the user can do)
   * appended after a semicolon when it is not empty.
   */
  RegistryException(
      String description,
      String method,
      HttpUrl url,
      int statusCode,
      List<RegistryError> errors,
      @Nullable Throwable cause,
      String advice) {
    super(
        describe(description, method, url, statusCode, errors)
            + (advice.isEmpty() ? "" : "; " + advice),
        cause);
    this.method = method;
    this.url = withoutQuery(url);
    this.statusCode = statusCode;
    this.errors = List.copyOf(errors);
  }

  /** Returns the HTTP method of the failed request, or null when the failure is not a response. */
  public @Nullable String method() {
    return method;
  }

  /** Returns the URL of the failed request without its query string, or null. */
  public @Nullable String url() {
    return url;
  }

  /** Returns the HTTP status, or 0 when the failure is not about one response. */
  public int statusCode() {
    return statusCode;
  }

  /** Returns the registry's error list from the response body; empty when there was none. */
  public List<RegistryError> errors() {
    return errors;
  }

  /** Returns {@code url} without its query string and fragment, for messages and logs. */
  static String withoutQuery(HttpUrl url) {
    return url.newBuilder().query(null).fragment(null).build().toString();
  }

  private static String describe(
      String description, String method, HttpUrl url, int statusCode, List<RegistryError> errors) {
    StringBuilder text =
        new StringBuilder(description)
            .append(": ")
            .append(method)
            .append(' ')
            .append(withoutQuery(url))
            .append(" returned status ")
            .append(statusCode);
    if (!errors.isEmpty()) {
      text.append(" (")
          .append(errors.stream().map(RegistryError::toString).collect(Collectors.joining("; ")))
          .append(')');
    }
    return text.toString();
  }
}
