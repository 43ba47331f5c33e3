package dev.jsoci.fetcher.registry;

import dev.jsoci.oci.Descriptor;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A manifest or image index as the registry returned it, with the descriptor that names it. The
 * digest of {@code bytes} has been checked against the descriptor.
 *
 * @param descriptor the media type, digest and size of {@code bytes}
 * @param bytes the exact bytes; {@link #bytes()} returns a copy
 */
public record ManifestContent(Descriptor descriptor, byte[] bytes) {
  public ManifestContent {
    Objects.requireNonNull(descriptor, "descriptor");
    bytes = bytes.clone();
  }

  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  @Override
  public boolean equals(@Nullable Object other) {
    return other instanceof ManifestContent
        && ((ManifestContent) other).descriptor.equals(descriptor);
  }

  @Override
  public int hashCode() {
    return descriptor.hashCode();
  }

  @Override
  public String toString() {
    return "ManifestContent{" + descriptor + "}";
  }
}
