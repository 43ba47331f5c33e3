package dev.jsoci.fetcher.discovery;

import dev.jsoci.fetcher.registry.ManifestContent;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * An {@link IndexRegistry} over maps, for tests: it records every call and fails the next ones on
 * request.
 */
final class FakeIndexRegistry implements IndexRegistry {
  private final Map<Digest, ManifestContent> manifests = new ConcurrentHashMap<>();
  private final Map<String, ManifestContent> tags = new ConcurrentHashMap<>();
  private final Map<Digest, ImageIndex> referrers = new ConcurrentHashMap<>();
  private final Map<Digest, byte[]> blobs = new ConcurrentHashMap<>();
  private final List<String> calls = new CopyOnWriteArrayList<>();
  private volatile boolean hasReferrersApi;
  private volatile @Nullable IOException failure;

  Digest putManifest(String mediaType, byte[] bytes) {
    Digest digest = Digest.sha256Of(bytes);
    manifests.put(
        digest, new ManifestContent(Descriptor.of(mediaType, digest, bytes.length), bytes));
    return digest;
  }

  void putTag(String tag, ImageIndex index) {
    byte[] bytes = index.toBytes();
    tags.put(
        tag,
        new ManifestContent(
            Descriptor.of(MediaType.OCI_INDEX, Digest.sha256Of(bytes), bytes.length), bytes));
  }

  /** Turns the referrers API on and lists {@code index} as the referrers of {@code subject}. */
  void putReferrers(Digest subject, ImageIndex index) {
    hasReferrersApi = true;
    referrers.put(subject, index);
  }

  Descriptor putBlob(String mediaType, byte[] bytes) {
    Digest digest = Digest.sha256Of(bytes);
    blobs.put(digest, bytes.clone());
    return Descriptor.of(mediaType, digest, bytes.length);
  }

  /** Makes every call fail with {@code failure} until it is cleared with null. */
  void failWith(@Nullable IOException failure) {
    this.failure = failure;
  }

  List<String> calls() {
    return new ArrayList<>(calls);
  }

  private void record(String call) throws IOException {
    calls.add(call);
    IOException current = failure;
    if (current != null) {
      throw current;
    }
  }

  @Override
  public ManifestContent fetchManifest(ImageRef repository, Digest digest) throws IOException {
    record("manifest " + digest);
    ManifestContent content = manifests.get(digest);
    if (content == null) {
      throw new IOException("manifest " + digest + " not found");
    }
    return content;
  }

  @Override
  public Optional<ManifestContent> fetchTagged(ImageRef repository, String tag) throws IOException {
    record("tag " + tag);
    return Optional.ofNullable(tags.get(tag));
  }

  @Override
  public Optional<ImageIndex> fetchReferrers(
      ImageRef repository, Digest subject, String artifactType) throws IOException {
    record("referrers " + subject + " " + artifactType);
    if (!hasReferrersApi) {
      return Optional.empty();
    }
    ImageIndex index = referrers.get(subject);
    return Optional.of(
        index != null ? index : new ImageIndex(MediaType.OCI_INDEX, "", List.of(), null, Map.of()));
  }

  @Override
  public byte[] readBlob(ImageRef repository, Descriptor blob) throws IOException {
    record("blob " + blob.digest());
    byte[] bytes = blobs.get(blob.digest());
    if (bytes == null) {
      throw new IOException("blob " + blob.digest() + " not found");
    }
    return bytes.clone();
  }
}
