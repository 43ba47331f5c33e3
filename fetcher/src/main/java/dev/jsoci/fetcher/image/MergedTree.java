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
import java.util.List;
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
 * <p>A directory that a layer leaves out of its tar, but whose entries it has, is a directory of
 * that layer, as containerd's unpack makes it: over a lower layer's {@code lib -> usr/lib}, an
 * upper layer's {@code lib/x} makes {@code lib} a directory that hides the link.
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
      Optional<Found> entry = lookup(candidate);
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

  /** Finds the entry at {@code cleanPath} in the merged view, whose parents are directories. */
  private Optional<Found> lookup(ByteString cleanPath) throws IOException {
    if (LayerTree.baseName(cleanPath).startsWith(LayerTree.WHITEOUT_PREFIX)) {
      return Optional.empty();
    }
    for (int i = 0; i < layerCount; i++) {
      LayerTree layer = layer(i);
      Optional<TocEntry> entry = layer.entry(cleanPath);
      if (entry.isPresent()) {
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
