package dev.jsoci.fetcher.image;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.TocIndex;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The entries of one layer by cleaned path, with the layer's whiteouts and opaque directories.
 *
 * <p>A whiteout is an entry named {@code .wh.NAME}: it deletes NAME of the layers below. An entry
 * named {@code .wh..wh..opq} makes its directory opaque: the layers below contribute nothing to it.
 * Both follow the OCI image-spec's layer format ("Whiteouts").
 */
public final class LayerTree {
  static final ByteString WHITEOUT_PREFIX = ByteString.utf8(".wh.");
  static final ByteString OPAQUE_MARKER = ByteString.utf8(".wh..wh..opq");

  private final TocIndex index;
  private final Set<ByteString> whiteouts = new HashSet<>();
  private final Set<ByteString> opaqueDirectories = new HashSet<>();
  private final Set<ByteString> parentDirectories = new HashSet<>();

  private LayerTree(TocIndex index) {
    this.index = index;
    for (TocIndex.Entry entry : index.entries()) {
      ByteString path = TocIndex.cleanPath(entry.toc().name());
      for (ByteString parent = parent(path); !parent.isEmpty(); parent = parent(parent)) {
        if (!parentDirectories.add(parent)) {
          break;
        }
      }
      ByteString base = baseName(path);
      if (base.equals(OPAQUE_MARKER)) {
        opaqueDirectories.add(parent(path));
      } else if (base.startsWith(WHITEOUT_PREFIX)) {
        whiteouts.add(
            TocIndex.join(parent(path), base.substring(WHITEOUT_PREFIX.size(), base.size())));
      }
    }
  }

  /** Returns the tree of the layer whose entries are in {@code index}. */
  public static LayerTree of(TocIndex index) {
    return new LayerTree(index);
  }

  public TocIndex index() {
    return index;
  }

  /**
   * Returns the entry at {@code cleanPath} in this layer, not counting whiteout entries. A
   * directory that the tar does not list but that has entries below it gets an implicit entry: mode
   * 0755, owner 0:0, the zero time.
   */
  Optional<TocEntry> entry(ByteString cleanPath) {
    if (baseName(cleanPath).startsWith(WHITEOUT_PREFIX)) {
      return Optional.empty();
    }
    Optional<TocEntry> entry = index.find(cleanPath);
    if (entry.isEmpty() && parentDirectories.contains(cleanPath)) {
      return Optional.of(implicitDirectory(cleanPath));
    }
    return entry;
  }

  private static TocEntry implicitDirectory(ByteString cleanPath) {
    return new TocEntry(
        cleanPath,
        EntryType.DIRECTORY,
        0,
        0,
        ByteString.EMPTY,
        0755,
        0,
        0,
        ByteString.EMPTY,
        ByteString.EMPTY,
        TocEntry.ZERO_TIME,
        0,
        0,
        List.of());
  }

  /** Returns whether this layer deletes {@code cleanPath} of the layers below it. */
  boolean isWhitedOut(ByteString cleanPath) {
    return whiteouts.contains(cleanPath);
  }

  /** Returns whether this layer hides the lower layers' contents of directory {@code cleanPath}. */
  boolean isOpaque(ByteString cleanPath) {
    return opaqueDirectories.contains(cleanPath);
  }

  static ByteString baseName(ByteString path) {
    int slash = lastSlash(path);
    return slash < 0 ? path : path.substring(slash + 1, path.size());
  }

  static ByteString parent(ByteString path) {
    int slash = lastSlash(path);
    return slash < 0 ? ByteString.EMPTY : path.substring(0, slash);
  }

  private static int lastSlash(ByteString path) {
    for (int i = path.size() - 1; i >= 0; i--) {
      if (path.byteAt(i) == '/') {
        return i;
      }
    }
    return -1;
  }
}
