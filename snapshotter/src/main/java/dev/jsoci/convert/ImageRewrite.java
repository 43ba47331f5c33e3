package dev.jsoci.convert;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.Platform;
import dev.jsoci.oci.SociAnnotations;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The JSON rewrites that turn an image into a SOCI-enabled image, following AWS's {@code soci
 * convert}, so that both tools write the same manifests and index for the same zTOCs and build tool
 * identifier:
 *
 * <ol>
 *   <li>Each image manifest gets the OCI manifest media type, the OCI config media type and, when
 *       its platform got a SOCI index, the annotation {@code com.amazon.soci.index-digest}. Layer
 *       media types stay as they are.
 *   <li>Its entry in the image index gets the new digest, size and media type, and its annotations
 *       are replaced by the manifest's annotations, so annotations that were only on the entry are
 *       dropped.
 *   <li>Each SOCI index gets an entry with {@code com.amazon.soci.image-manifest-digest}, the
 *       platform of its image and the artifact type of a SOCI index v2. It replaces an existing
 *       SOCI index v2 entry of the same platform in place, or is appended after every other entry,
 *       because containerd picks the first entry that matches a platform and must find the image.
 *   <li>The image index gets the OCI index media type, so a Docker manifest list becomes an OCI
 *       index. An image that was a single manifest becomes an index with one entry whose platform
 *       comes from the image config.
 * </ol>
 *
 * <p>All JSON is written by the oci module's writers, which produce the bytes Go's {@code
 * encoding/json} writes.
 */
final class ImageRewrite {
  private ImageRewrite() {}

  /**
   * Returns the rewritten image manifest.
   *
   * @param layers the layers of the new manifest: the source's, or re-compressed replacements
   * @param sociIndex the digest of the platform's SOCI index, or null when it got none
   */
  static ImageManifest rewriteManifest(
      ImageManifest source, List<Descriptor> layers, @Nullable Digest sociIndex) {
    if (layers.size() != source.layers().size()) {
      throw new IllegalArgumentException(
          "expected " + source.layers().size() + " layers, found " + layers.size());
    }
    Descriptor config = source.config().toBuilder().mediaType(MediaType.OCI_CONFIG).build();
    Map<String, String> annotations = new HashMap<>(source.annotations());
    if (sociIndex != null) {
      annotations.put(SociAnnotations.INDEX_DIGEST, sociIndex.toString());
    }
    return new ImageManifest(
        MediaType.OCI_MANIFEST,
        source.artifactType(),
        config,
        layers,
        source.subject(),
        annotations);
  }

  /**
   * Returns the image index entry of a rewritten manifest: {@code entry} with the new media type,
   * digest and size, and {@code manifestAnnotations} in place of its own annotations. Embedded
   * {@code data} is dropped because it would no longer match the digest.
   */
  static Descriptor rewriteEntry(
      Descriptor entry, Descriptor manifest, Map<String, String> manifestAnnotations) {
    return entry.toBuilder()
        .mediaType(manifest.mediaType())
        .digest(manifest.digest())
        .size(manifest.size())
        .annotations(manifestAnnotations)
        .data(new byte[0])
        .build();
  }

  /**
   * Returns the image index entry of a SOCI index v2.
   *
   * @param sociIndex the descriptor of the SOCI index manifest
   * @param imageManifest the digest of the rewritten image manifest it belongs to
   * @param platform the platform of that image manifest's entry
   */
  static Descriptor sociIndexEntry(
      Descriptor sociIndex, Digest imageManifest, @Nullable Platform platform) {
    return Descriptor.builder(MediaType.OCI_MANIFEST, sociIndex.digest(), sociIndex.size())
        .annotations(Map.of(SociAnnotations.IMAGE_MANIFEST_DIGEST, imageManifest.toString()))
        .platform(platform)
        .artifactType(MediaType.SOCI_INDEX_V2)
        .build();
  }

  /**
   * Returns whether {@code entry} of an image index names a SOCI index: its artifact type is a SOCI
   * index type, or it has the {@code com.amazon.soci.image-manifest-digest} annotation, which stays
   * when a copy tool drops {@code artifactType}.
   */
  static boolean isSociIndexEntry(Descriptor entry) {
    return entry.artifactType().equals(MediaType.SOCI_INDEX_V2)
        || entry.artifactType().equals(MediaType.SOCI_INDEX_V1)
        || entry.annotation(SociAnnotations.IMAGE_MANIFEST_DIGEST) != null;
  }

  /**
   * Places new SOCI index entries. Each replaces the first existing SOCI index entry whose platform
   * matches its own strictly, at that position. Entries without such a match are appended in order.
   */
  static List<Descriptor> placeSociIndexEntries(
      List<Descriptor> entries, List<Descriptor> sociIndexEntries) {
    List<Descriptor> placed = new ArrayList<>(entries);
    List<Integer> replacedPositions = new ArrayList<>();
    for (Descriptor sociEntry : sociIndexEntries) {
      int position = findReplaceable(placed, sociEntry.platform(), replacedPositions);
      if (position < 0) {
        replacedPositions.add(placed.size());
        placed.add(sociEntry);
      } else {
        replacedPositions.add(position);
        placed.set(position, sociEntry);
      }
    }
    return placed;
  }

  private static int findReplaceable(
      List<Descriptor> entries, @Nullable Platform platform, List<Integer> taken) {
    if (platform == null) {
      return -1;
    }
    for (int i = 0; i < entries.size(); i++) {
      Descriptor entry = entries.get(i);
      Platform existing = entry.platform();
      if (taken.contains(i) || existing == null || !isSociIndexEntry(entry)) {
        continue;
      }
      if (platform.matches(existing) && existing.matches(platform)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Returns the new image index: {@code source}'s artifact type, subject and annotations with the
   * OCI index media type and {@code entries}.
   */
  static ImageIndex rewriteIndex(ImageIndex source, List<Descriptor> entries) {
    return new ImageIndex(
        MediaType.OCI_INDEX,
        source.artifactType(),
        entries,
        source.subject(),
        source.annotations());
  }

  /**
   * Returns the image index that stands for a single-manifest image: one entry, the manifest's
   * media type, digest and size with {@code platform}.
   */
  static ImageIndex indexOfManifest(Descriptor manifest, Platform platform) {
    Descriptor entry =
        Descriptor.builder(manifest.mediaType(), manifest.digest(), manifest.size())
            .platform(platform)
            .build();
    return new ImageIndex(MediaType.OCI_INDEX, "", List.of(entry), null, Map.of());
  }
}
