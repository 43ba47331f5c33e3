package dev.jsoci.fetcher.registry;

import java.util.List;
import okhttp3.HttpUrl;

/** A blob that the registry reports as unknown (status 404). */
public final class BlobNotFoundException extends RegistryException {
  private static final long serialVersionUID = 1L;

  BlobNotFoundException(
      String description, String method, HttpUrl url, List<RegistryError> errors) {
    super(description, method, url, 404, errors, null);
  }
}
