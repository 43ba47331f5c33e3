package dev.jsoci.fetcher.registry;

import java.util.Objects;

/**
 * One entry of the error list a registry returns in a failed response body, as the OCI
 * distribution-spec defines it: {@code {"errors": [{"code": ..., "message": ..., "detail": ...}]}}.
 *
 * @param code for example {@code MANIFEST_UNKNOWN} or {@code BLOB_UNKNOWN}; may be empty
 * @param message the registry's human-readable text; may be empty
 */
public record RegistryError(String code, String message) {
  public RegistryError {
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(message, "message");
  }

  @Override
  public String toString() {
    if (message.isEmpty()) {
      return code;
    }
    return code.isEmpty() ? message : code + ": " + message;
  }
}
