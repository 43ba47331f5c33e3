package dev.jsoci.oci;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * An OCI image-spec v1.1 content descriptor: the media type, digest and size of a blob or manifest,
 * with optional URLs, annotations, embedded data, platform and artifact type.
 *
 * <p>Absent optional members are empty values ({@code ""}, an empty list, map or array), as in the
 * Go type, and the JSON writer omits them.
 *
 * @param mediaType the media type; may be empty, and is still written as {@code ""}
 * @param digest the digest of the content
 * @param size the content length in bytes, never negative
 * @param urls locations the content may also be fetched from
 * @param annotations iterated in UTF-8 byte order of the keys, the order Go writes them in
 * @param data the embedded content; {@link #data()} returns a copy
 * @param platform the platform of the manifest this descriptor points to, or null
 * @param artifactType the artifact type of the manifest this descriptor points to; may be empty
 */
public record Descriptor(
    String mediaType,
    Digest digest,
    long size,
    List<String> urls,
    Map<String, String> annotations,
    byte[] data,
    @Nullable Platform platform,
    String artifactType) {

  public Descriptor {
    Objects.requireNonNull(mediaType, "mediaType");
    Objects.requireNonNull(digest, "digest");
    if (size < 0) {
      throw new IllegalArgumentException("size must not be negative, found " + size);
    }
    urls = List.copyOf(urls);
    annotations = Utf8Order.sortedCopy(annotations);
    data = data.clone();
    Objects.requireNonNull(artifactType, "artifactType");
  }

  /** Returns a descriptor with only the three required members. */
  public static Descriptor of(String mediaType, Digest digest, long size) {
    return new Descriptor(mediaType, digest, size, List.of(), Map.of(), new byte[0], null, "");
  }

  public static Builder builder(String mediaType, Digest digest, long size) {
    return of(mediaType, digest, size).toBuilder();
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  /** Returns a copy of the embedded data; empty when the descriptor has none. */
  @Override
  public byte[] data() {
    return data.clone();
  }

  /** Returns the annotation {@code key}, or null when absent. */
  public @Nullable String annotation(String key) {
    return annotations.get(key);
  }

  @Override
  public boolean equals(@Nullable Object other) {
    if (this == other) {
      return true;
    }
    if (!(other instanceof Descriptor)) {
      return false;
    }
    Descriptor that = (Descriptor) other;
    return size == that.size
        && mediaType.equals(that.mediaType)
        && digest.equals(that.digest)
        && urls.equals(that.urls)
        && annotations.equals(that.annotations)
        && Arrays.equals(data, that.data)
        && Objects.equals(platform, that.platform)
        && artifactType.equals(that.artifactType);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        mediaType, digest, size, urls, annotations, Arrays.hashCode(data), platform, artifactType);
  }

  @Override
  public String toString() {
    StringBuilder text =
        new StringBuilder("Descriptor{mediaType=")
            .append(mediaType)
            .append(", digest=")
            .append(digest)
            .append(", size=")
            .append(size);
    if (!urls.isEmpty()) {
      text.append(", urls=").append(urls);
    }
    if (!annotations.isEmpty()) {
      text.append(", annotations=").append(annotations);
    }
    if (data.length > 0) {
      text.append(", data=<").append(data.length).append(" bytes>");
    }
    if (platform != null) {
      text.append(", platform=").append(platform);
    }
    if (!artifactType.isEmpty()) {
      text.append(", artifactType=").append(artifactType);
    }
    return text.append('}').toString();
  }

  /** Builds a {@link Descriptor}; each setter replaces the member it names. */
  public static final class Builder {
    private String mediaType;
    private Digest digest;
    private long size;
    private List<String> urls;
    private Map<String, String> annotations;
    private byte[] data;
    private @Nullable Platform platform;
    private String artifactType;

    private Builder(Descriptor descriptor) {
      this.mediaType = descriptor.mediaType;
      this.digest = descriptor.digest;
      this.size = descriptor.size;
      this.urls = descriptor.urls;
      this.annotations = descriptor.annotations;
      this.data = descriptor.data;
      this.platform = descriptor.platform;
      this.artifactType = descriptor.artifactType;
    }

    public Builder mediaType(String mediaType) {
      this.mediaType = mediaType;
      return this;
    }

    public Builder digest(Digest digest) {
      this.digest = digest;
      return this;
    }

    public Builder size(long size) {
      this.size = size;
      return this;
    }

    public Builder urls(List<String> urls) {
      this.urls = urls;
      return this;
    }

    public Builder annotations(Map<String, String> annotations) {
      this.annotations = annotations;
      return this;
    }

    public Builder data(byte[] data) {
      this.data = data;
      return this;
    }

    public Builder platform(@Nullable Platform platform) {
      this.platform = platform;
      return this;
    }

    public Builder artifactType(String artifactType) {
      this.artifactType = artifactType;
      return this;
    }

    public Descriptor build() {
      return new Descriptor(
          mediaType, digest, size, urls, annotations, data, platform, artifactType);
    }
  }
}
