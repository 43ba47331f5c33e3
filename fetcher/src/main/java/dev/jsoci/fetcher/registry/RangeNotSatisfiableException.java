package dev.jsoci.fetcher.registry;

import java.util.List;
import java.util.OptionalLong;
import okhttp3.HttpUrl;

/**
 * A ranged blob read that the server rejected with status 416, usually because the range ends past
 * the end of the blob. {@link #blobSize()} is the size the server reported, when it did.
 */
public final class RangeNotSatisfiableException extends RegistryException {
  private static final long serialVersionUID = 1L;

  private final long blobSize;

  RangeNotSatisfiableException(
      String description, String method, HttpUrl url, List<RegistryError> errors, long blobSize) {
    super(description, method, url, 416, errors, null);
    this.blobSize = blobSize;
  }

  /** Returns the blob size from the response's {@code Content-Range: bytes *}{@code /<size>}. */
  public OptionalLong blobSize() {
    return blobSize < 0 ? OptionalLong.empty() : OptionalLong.of(blobSize);
  }
}
