package dev.jsoci.convert;

import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * The location of an image: a registry reference such as {@code 127.0.0.1:5000/app:v1}, or an OCI
 * image layout written {@code oci:DIR[:TAG]}, where TAG is matched against the {@code
 * org.opencontainers.image.ref.name} annotations of the layout's {@code index.json}.
 *
 * @param layoutDirectory the layout directory, or null for a registry reference
 * @param registryReference the registry reference, or null for a layout
 * @param layoutTag the tag or digest in the layout, or null when none was given
 */
public record ImageLocation(
    @Nullable Path layoutDirectory,
    @Nullable ImageRef registryReference,
    @Nullable String layoutTag) {

  /** The prefix of an OCI image layout location, {@code oci:DIR[:TAG]}. */
  public static final String LAYOUT_PREFIX = "oci:";

  private static final Pattern TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");

  /** The tag given to a layout destination that names none, as registries default to it. */
  public static final String DEFAULT_TAG = "latest";

  public ImageLocation {
    if ((layoutDirectory == null) == (registryReference == null)) {
      throw new IllegalArgumentException(
          "exactly one of layoutDirectory and registryReference must be set");
    }
  }

  /**
   * Parses {@code oci:DIR[:TAG]} or a registry reference. In the layout form, the text after the
   * last {@code :} is the tag when it is a valid tag (no {@code /}); a directory whose name
   * contains {@code :} therefore needs an explicit tag.
   *
   * @throws IllegalArgumentException naming the text when it is neither
   */
  public static ImageLocation parse(String text) {
    if (!text.startsWith(LAYOUT_PREFIX)) {
      return new ImageLocation(null, ImageRef.parse(text), null);
    }
    String rest = text.substring(LAYOUT_PREFIX.length());
    String directory = rest;
    @Nullable String tag = null;
    int colon = rest.lastIndexOf(':');
    if (colon > 0) {
      String candidate = rest.substring(colon + 1);
      String before = rest.substring(0, colon);
      boolean digest = before.endsWith(":" + Digest.SHA256) || before.endsWith(":" + Digest.SHA512);
      if (digest) {
        int digestStart = before.lastIndexOf(':');
        directory = rest.substring(0, digestStart);
        tag = rest.substring(digestStart + 1);
      } else if (TAG.matcher(candidate).matches()) {
        directory = before;
        tag = candidate;
      }
    }
    if (directory.isEmpty()) {
      throw new IllegalArgumentException(
          "invalid OCI layout location \"" + text + "\", expected oci:DIR[:TAG]");
    }
    return new ImageLocation(Path.of(directory), null, tag);
  }

  /** Returns whether this is an OCI image layout. */
  public boolean isLayout() {
    return layoutDirectory != null;
  }

  /**
   * Opens the store of this location.
   *
   * @param clients supplies the registry client, called only for a registry reference
   * @param create whether a missing layout directory is created, for a destination
   */
  public ImageStore openStore(Supplier<RegistryClient> clients, boolean create) throws IOException {
    if (layoutDirectory != null) {
      return create
          ? OciLayoutStore.openOrCreate(layoutDirectory)
          : OciLayoutStore.open(layoutDirectory);
    }
    return RegistryStore.of(clients.get(), registryReference);
  }

  /**
   * Returns the tag or digest to read the image under. A layout without a tag names its only image.
   *
   * @throws ConvertException when a layout without a tag contains no image or several
   */
  public String sourceReference(ImageStore store) throws IOException {
    if (registryReference != null) {
      return registryReference.manifestReference();
    }
    if (layoutTag != null) {
      return layoutTag;
    }
    List<Descriptor> entries = ((OciLayoutStore) store).entries();
    if (entries.size() == 1) {
      return entries.get(0).digest().toString();
    }
    List<String> tags = new ArrayList<>();
    for (Descriptor entry : entries) {
      String tag = entry.annotation(OciLayoutStore.REF_NAME);
      tags.add(tag == null ? entry.digest().toString() : tag);
    }
    throw new ConvertException(
        store.name()
            + " contains "
            + entries.size()
            + " images, name one as oci:DIR:TAG"
            + (tags.isEmpty() ? "" : " (found " + String.join(", ", tags) + ")"));
  }

  /**
   * Returns the tag to write the converted image under: the reference's tag, or {@code latest} for
   * a layout without one.
   *
   * @throws ConvertException when a registry reference names only a digest
   */
  public String destinationTag() throws ConvertException {
    if (registryReference != null) {
      if (registryReference.tag() == null) {
        throw new ConvertException(
            "destination " + registryReference + " needs a tag, not only a digest");
      }
      return registryReference.tag();
    }
    if (layoutTag != null
        && (layoutTag.startsWith(Digest.SHA256 + ":")
            || layoutTag.startsWith(Digest.SHA512 + ":"))) {
      throw new ConvertException(
          "destination oci:" + layoutDirectory + " needs a tag, not a digest");
    }
    return layoutTag == null ? DEFAULT_TAG : layoutTag;
  }

  @Override
  public String toString() {
    if (registryReference != null) {
      return registryReference.toString();
    }
    return LAYOUT_PREFIX + layoutDirectory + (layoutTag == null ? "" : ":" + layoutTag);
  }
}
