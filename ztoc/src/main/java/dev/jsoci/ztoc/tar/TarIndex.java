package dev.jsoci.ztoc.tar;

import dev.jsoci.ztoc.TocEntry;
import java.util.List;

/**
 * The TOC entries of a tar stream and the offset where the tar reader stopped.
 *
 * @param entries one entry per file, directory, link or device of the archive, in tar order
 * @param uncompressedArchiveSize offset just after the end-of-archive marker, or the stream length
 *     when the stream ends without one. Record padding after the marker is not counted.
 */
public record TarIndex(List<TocEntry> entries, long uncompressedArchiveSize) {
  public TarIndex {
    entries = List.copyOf(entries);
    if (uncompressedArchiveSize < 0) {
      throw new IllegalArgumentException(
          "uncompressedArchiveSize is negative: " + uncompressedArchiveSize);
    }
  }
}
