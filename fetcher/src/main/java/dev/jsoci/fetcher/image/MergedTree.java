package dev.jsoci.fetcher.image;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryNotFoundException;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.TocIndex;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Path lookup in the merged filesystem of an image: the upper layer's entry wins, whiteouts and
 * opaque directories hide lower entries, and symbolic links are followed inside the image only.
 *
 * <p>Layers are loaded on demand, from the top down, and only as far down as a lookup needs, so
 * that a file of the top layer costs one layer's TOC. A symbolic link is resolved as the kernel
 * resolves it under {@code chroot}: an absolute target starts at the image root, and {@code ..}
 * never climbs above the root.
 *
 * <p>A directory that a layer leaves out of its tar, but whose entries it has, does not hide what
 * the layers below have at its path: their directory or symbolic link shows, and the layer's
 * entries under a directory that is a symbolic link below appear at the link's target, as unpacking
 * the layer onto the layers below puts them (lib/x over lib -> usr/lib is usr/lib/x).
 */
public final class MergedTree {
  /** Maximum number of symbolic links followed in one lookup, Linux's MAXSYMLINKS. */
  private static final int MAX_SYMLINKS = 40;

  /** Loads the tree of one layer. The merged tree calls it at most once per layer, in order. */
  @FunctionalInterface
  public interface LayerLoader {
    LayerTree load(int layer) throws IOException;
  }

  /**
   * A file found in the image.
   *
   * @param layer the index of the layer that provides it, 0 for the top layer
   * @param entry its TOC entry; for a hard link, the entry of the link's target in that layer
   */
  public record Found(int layer, TocEntry entry) {}

  private final int layerCount;
  private final LayerLoader loader;
  private final List<LayerTree> loaded = new ArrayList<>();

  /**
   * For each loaded layer, its implicit directories that are symbolic links below it: the cleaned
   * link target, which names where their entries appear, to the directory's own path.
   */
  private final Map<Integer, Map<ByteString, ByteString>> relocations = new HashMap<>();

  /**
   * @param layerCount the number of layers
   * @param loader loads layer {@code i}, where 0 is the top layer
   */
  public MergedTree(int layerCount, LayerLoader loader) {
    this.layerCount = layerCount;
    this.loader = loader;
  }

  /**
   * Resolves {@code path}, following symbolic links in every component, including the last.
   *
   * @throws EntryNotFoundException if the path is not in the image, a component is not a directory,
   *     or links nest deeper than 40
   */
  public Found resolve(String path) throws IOException {
    try {
      return resolve(path, false);
    } catch (EntryNotFoundException e) {
      // The path may pass a directory that a layer leaves out and a lower layer has as a link.
      // Looking below such directories loads lower layers, so only a miss pays for it.
      try {
        return resolve(path, true);
      } catch (EntryNotFoundException again) {
        throw e;
      }
    }
  }

  /**
   * Resolves {@code path}; with {@code belowImplicit}, a directory that a layer leaves out yields
   * to what the layers below have at its path.
   */
  private Found resolve(String path, boolean belowImplicit) throws IOException {
    Deque<ByteString> pending = new ArrayDeque<>(components(ByteString.utf8(path)));
    List<ByteString> resolved = new ArrayList<>();
    int links = 0;
    Found found = null;
    while (!pending.isEmpty()) {
      ByteString component = pending.removeFirst();
      if (isDot(component)) {
        continue;
      }
      if (isDotDot(component)) {
        if (!resolved.isEmpty()) {
          resolved.remove(resolved.size() - 1);
        }
        found = null;
        continue;
      }

      ByteString candidate = joinAll(resolved, component);
      Optional<Found> entry = lookupFrom(0, candidate, belowImplicit);
      if (entry.isEmpty()) {
        throw new EntryNotFoundException(
            "path \"" + path + "\" is not in the image: \"" + candidate + "\" does not exist");
      }
      TocEntry toc = entry.get().entry();
      if (toc.type() == EntryType.SYMLINK) {
        if (++links > MAX_SYMLINKS) {
          throw new EntryNotFoundException(
              "path \"" + path + "\": too many levels of symbolic links");
        }
        List<ByteString> target = components(toc.linkname());
        for (int i = target.size() - 1; i >= 0; i--) {
          pending.addFirst(target.get(i));
        }
        if (toc.linkname().size() > 0 && toc.linkname().byteAt(0) == '/') {
          resolved.clear();
        }
        found = null;
        continue;
      }
      if (!pending.isEmpty() && toc.type() != EntryType.DIRECTORY) {
        throw new EntryNotFoundException(
            "path \"" + path + "\": \"" + candidate + "\" is not a directory");
      }
      resolved.add(component);
      found = entry.get();
    }
    if (found == null) {
      throw new EntryNotFoundException("path \"" + path + "\" names the image's root directory");
    }
    return resolveHardLink(found, path);
  }

  private Found resolveHardLink(Found found, String path) throws IOException {
    if (found.entry().type() != EntryType.HARDLINK) {
      return found;
    }
    TocIndex index = layer(found.layer()).index();
    try {
      return new Found(found.layer(), index.resolve(found.entry().linkname()));
    } catch (EntryNotFoundException e) {
      throw new EntryNotFoundException(
          "path \""
              + path
              + "\" is a hard link to \""
              + found.entry().linkname()
              + "\", which is not in its layer");
    }
  }

  /**
   * Finds the entry at {@code cleanPath}, whose parents are directories, in the merged view of the
   * layers from {@code first} down.
   *
   * @param belowImplicit whether a directory that a layer leaves out yields to the entry that the
   *     layers below have at its path
   */
  private Optional<Found> lookupFrom(int first, ByteString cleanPath, boolean belowImplicit)
      throws IOException {
    if (LayerTree.baseName(cleanPath).startsWith(LayerTree.WHITEOUT_PREFIX)) {
      return Optional.empty();
    }
    for (int i = first; i < layerCount; i++) {
      LayerTree layer = layer(i);
      Optional<TocEntry> entry = layer.entry(cleanPath);
      if (entry.isEmpty()) {
        entry = relocatedEntry(i, cleanPath);
      }
      if (entry.isPresent()) {
        if (belowImplicit && layer.isImplicit(cleanPath) && !hidesBelow(layer, cleanPath)) {
          Optional<Found> below = lookupFrom(i + 1, cleanPath, true);
          if (below.isPresent()) {
            return below;
          }
        }
        return Optional.of(new Found(i, entry.get()));
      }
      if (layer.isWhitedOut(cleanPath) || hidesBelow(layer, cleanPath)) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  /**
   * Returns whether {@code layer} hides everything below it at {@code cleanPath}: an ancestor is
   * whited out, opaque, or not a directory in this layer.
   */
  private static boolean hidesBelow(LayerTree layer, ByteString cleanPath) {
    ByteString ancestor = LayerTree.parent(cleanPath);
    while (true) {
      if (layer.isOpaque(ancestor)) {
        return true;
      }
      if (ancestor.isEmpty()) {
        return false;
      }
      if (layer.isWhitedOut(ancestor)) {
        return true;
      }
      Optional<TocEntry> entry = layer.entry(ancestor);
      if (entry.isPresent() && entry.get().type() != EntryType.DIRECTORY) {
        return true;
      }
      ancestor = LayerTree.parent(ancestor);
    }
  }

  /**
   * Returns the entry of layer {@code i} that appears at {@code cleanPath} because its implicit
   * parent directory is a symbolic link in the layers below, pointing at a parent of that path.
   */
  private Optional<TocEntry> relocatedEntry(int i, ByteString cleanPath) throws IOException {
    Map<ByteString, ByteString> moved = relocations.get(i);
    if (moved == null) {
      moved = new HashMap<>();
      for (ByteString directory : layer(i).implicitDirectories()) {
        Optional<Found> below = lookupFrom(i + 1, directory, true);
        if (below.isPresent() && below.get().entry().type() == EntryType.SYMLINK) {
          ByteString target = below.get().entry().linkname();
          boolean absolute = target.size() > 0 && target.byteAt(0) == '/';
          ByteString base = absolute ? ByteString.EMPTY : LayerTree.parent(directory);
          moved.put(TocIndex.cleanPath(TocIndex.join(base, target)), directory);
        }
      }
      relocations.put(i, moved);
    }
    for (Map.Entry<ByteString, ByteString> move : moved.entrySet()) {
      ByteString target = move.getKey();
      if (cleanPath.startsWith(target)
          && cleanPath.size() > target.size()
          && (target.isEmpty() || cleanPath.byteAt(target.size()) == '/')) {
        ByteString rest =
            cleanPath.substring(target.isEmpty() ? 0 : target.size() + 1, cleanPath.size());
        Optional<TocEntry> entry = layer(i).entry(TocIndex.join(move.getValue(), rest));
        if (entry.isPresent()) {
          return entry;
        }
      }
    }
    return Optional.empty();
  }

  private LayerTree layer(int i) throws IOException {
    while (loaded.size() <= i) {
      loaded.add(loader.load(loaded.size()));
    }
    return loaded.get(i);
  }

  /** Returns the number of layers loaded so far. */
  public int loadedLayers() {
    return loaded.size();
  }

  private static List<ByteString> components(ByteString path) {
    List<ByteString> parts = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= path.size(); i++) {
      if (i == path.size() || path.byteAt(i) == '/') {
        if (i > start) {
          parts.add(path.substring(start, i));
        }
        start = i + 1;
      }
    }
    return parts;
  }

  private static ByteString joinAll(List<ByteString> parents, ByteString name) {
    ByteString path = ByteString.EMPTY;
    for (ByteString parent : parents) {
      path = TocIndex.join(path, parent);
    }
    return TocIndex.join(path, name);
  }

  private static boolean isDot(ByteString component) {
    return component.size() == 1 && component.byteAt(0) == '.';
  }

  private static boolean isDotDot(ByteString component) {
    return component.size() == 2 && component.byteAt(0) == '.' && component.byteAt(1) == '.';
  }
}
