package dev.jsoci.convert;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.Platform;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Chooses the entries of an image index to convert, as {@code soci convert} does:
 *
 * <ul>
 *   <li>all platforms: every image entry with a platform whose OS and architecture are not {@code
 *       unknown} (build attestations use {@code unknown/unknown});
 *   <li>named platforms: for each, the first image entry whose platform matches it strictly, so
 *       {@code linux/arm/v7} does not take {@code linux/arm/v6};
 *   <li>neither: the only entry of a single-manifest image, or the entry of the host's platform.
 * </ul>
 *
 * An entry chosen twice is converted once. Entries that name SOCI indexes are never image entries.
 */
final class PlatformSelection {
  private static final String UNKNOWN = "unknown";

  private PlatformSelection() {}

  /**
   * Returns the positions in {@code index.manifests()} of the entries to convert, in index order.
   *
   * @param image the source's name for messages
   * @throws ConvertException when a named platform, or the host's, has no image entry
   */
  static List<Integer> select(
      ImageIndex index, boolean singleManifest, ConvertOptions options, String image)
      throws ConvertException {
    List<Descriptor> entries = index.manifests();
    Set<Integer> chosen = new LinkedHashSet<>();

    if (options.allPlatforms()) {
      for (int i = 0; i < entries.size(); i++) {
        Platform platform = entries.get(i).platform();
        if (isImageEntry(entries.get(i))
            && platform != null
            && !platform.os().equals(UNKNOWN)
            && !platform.architecture().equals(UNKNOWN)) {
          chosen.add(i);
        }
      }
    } else if (!options.platforms().isEmpty()) {
      for (Platform requested : options.platforms()) {
        chosen.add(find(entries, requested, image, ""));
      }
    } else if (singleManifest) {
      chosen.add(0);
    } else {
      chosen.add(
          find(
              entries,
              options.hostPlatform(),
              image,
              " (the host's platform; choose others with --platform or --all-platforms)"));
    }

    List<Integer> positions = new ArrayList<>(chosen);
    positions.sort(null);
    return positions;
  }

  /**
   * Returns whether an image index entry names an image manifest: an OCI or Docker manifest that is
   * not a SOCI index.
   */
  static boolean isImageEntry(Descriptor entry) {
    return MediaType.isManifest(entry.mediaType()) && !ImageRewrite.isSociIndexEntry(entry);
  }

  /**
   * Returns the position of the first image entry whose platform matches {@code requested}
   * strictly.
   *
   * @param note added after the platform in the message
   * @throws ConvertException naming the platforms found when none matches
   */
  static int find(List<Descriptor> entries, Platform requested, String image, String note)
      throws ConvertException {
    List<String> available = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      Descriptor entry = entries.get(i);
      Platform platform = entry.platform();
      if (!isImageEntry(entry) || platform == null) {
        continue;
      }
      if (requested.matches(platform)) {
        return i;
      }
      available.add(platform.toString());
    }
    throw new ConvertException(
        image
            + ": no image for platform "
            + requested
            + note
            + ", found "
            + (available.isEmpty() ? "none" : String.join(", ", available)));
  }
}
