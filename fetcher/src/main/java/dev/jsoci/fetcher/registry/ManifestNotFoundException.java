package dev.jsoci.fetcher.registry;

import java.util.List;
import okhttp3.HttpUrl;

/**
 * A manifest or tag that the registry reports as unknown (status 404), or an image index without a
 * manifest for the requested platform.
 */
public final class ManifestNotFoundException extends RegistryException {
  private static final long serialVersionUID = 1L;

  ManifestNotFoundException(String message) {
    super(message);
  }

  ManifestNotFoundException(
      String description, String method, HttpUrl url, List<RegistryError> errors) {
    super(description, method, url, 404, errors, null);
  }
}
