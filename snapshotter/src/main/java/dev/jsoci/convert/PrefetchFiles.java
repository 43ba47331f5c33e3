package dev.jsoci.convert;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.jsoci.oci.PrefetchArtifact;
import dev.jsoci.oci.PrefetchArtifact.SpanRange;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.Ztoc;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The files whose spans a converted image lists in prefetch artifacts, and the search that finds
 * them in the layers.
 *
 * <p>A path is looked up the way a container resolves it in the image's root filesystem: in the
 * top-most layer that has it, where a whiteout or an opaque directory of a higher layer hides the
 * lower layers, and symbolic links, also in the path's directories, are followed. Only layers with
 * a zTOC are searched: a file of a layer without one is not seen. Tar names are cleaned like the
 * paths, so a name written {@code ./etc/foo} is found as {@code etc/foo}; the SOCI reference
 * compares the names as written, follows no link and applies no whiteout. Paths are taken as UTF-8
 * and compared as bytes.
 */
final class PrefetchFiles {
  /** Links followed for one path at most, as Linux's path lookup allows. */
  static final int MAX_LINKS = 40;

  private static final String WHITEOUT_PREFIX = ".wh.";
  private static final String OPAQUE_MARKER = ".wh..wh..opq";

  /** The reason of a path that a whiteout or an opaque directory deletes. */
  private static final String WHITEOUT = "is deleted by a whiteout";

  private PrefetchFiles() {}

  /**
   * Returns each path cleaned as an absolute path ({@code /a/../b/./c/} becomes {@code b/c}),
   * without duplicates, in the order given. Spaces around a path are ignored, as the SOCI reference
   * ignores them.
   *
   * @throws IllegalArgumentException naming a path that is blank, names the root directory, or
   *     contains a NUL character
   */
  static List<String> clean(List<String> paths) {
    Set<String> cleaned = new LinkedHashSet<>();
    for (String given : paths) {
      String path = given.strip();
      if (path.isEmpty()) {
        throw new IllegalArgumentException("invalid prefetch file \"" + given + "\": it is blank");
      }
      if (path.indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "invalid prefetch file \""
                + path.replace("\0", "\\0")
                + "\": it contains a NUL character");
      }
      String clean = cleanPath(path);
      if (clean.isEmpty()) {
        throw new IllegalArgumentException(
            "invalid prefetch file \""
                + path
                + "\": it names the root directory, which has no data");
      }
      cleaned.add(clean);
    }
    return List.copyOf(cleaned);
  }

  /**
   * Cleans {@code path} lexically as an absolute path and returns it without the leading {@code /}:
   * repeated slashes become one, {@code .} elements go, and {@code ..} removes the element before
   * it (at the root it is dropped). The root itself becomes the empty string.
   */
  static String cleanPath(String path) {
    Deque<String> elements = new ArrayDeque<>();
    for (String element : path.split("/")) {
      if (element.isEmpty() || element.equals(".")) {
        continue;
      }
      if (element.equals("..")) {
        elements.pollLast();
      } else {
        elements.addLast(element);
      }
    }
    return String.join("/", elements);
  }

  /**
   * One entry of a layer as the search needs it.
   *
   * @param type the tar entry type
   * @param spans the spans of its data, from the span of its first byte to the span of the offset
   *     just after its last byte, as the SOCI reference computes them. A hard link has those of its
   *     target in the same layer, or null when the target is not a regular file there.
   * @param linkTarget a symbolic link's target as written, empty for other types
   */
  record Entry(EntryType type, @Nullable SpanRange spans, String linkTarget) {
    Entry {
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(linkTarget, "linkTarget");
    }
  }

  /**
   * The entries of one layer with a zTOC, by cleaned name in Latin-1 form (one char per byte), with
   * the paths its whiteouts delete and the directories it marks opaque.
   */
  static final class LayerFiles {
    private final Map<String, Entry> entries;
    private final Set<String> whiteouts;
    private final Set<String> opaqueDirectories;

    private LayerFiles(
        Map<String, Entry> entries, Set<String> whiteouts, Set<String> opaqueDirectories) {
      this.entries = entries;
      this.whiteouts = whiteouts;
      this.opaqueDirectories = opaqueDirectories;
    }

    /**
     * Indexes the entries of a layer's zTOC. When a name occurs twice, the first entry wins, as in
     * the SOCI reference. The directories of a name are directories of the layer even when the tar
     * has no entry for them.
     */
    static LayerFiles of(Ztoc ztoc, Zinfo zinfo) {
      Map<String, Entry> entries = new HashMap<>();
      Set<String> whiteouts = new HashSet<>();
      Set<String> opaque = new HashSet<>();
      for (TocEntry entry : ztoc.entries()) {
        String name = cleanPath(new String(entry.name().toByteArray(), ISO_8859_1));
        if (name.isEmpty()) {
          continue;
        }
        int slash = name.lastIndexOf('/');
        String parent = slash < 0 ? "" : name.substring(0, slash);
        String base = name.substring(slash + 1);
        if (base.equals(OPAQUE_MARKER)) {
          opaque.add(parent);
          continue;
        }
        if (base.startsWith(WHITEOUT_PREFIX)) {
          whiteouts.add(child(parent, base.substring(WHITEOUT_PREFIX.length())));
          continue;
        }
        entries.putIfAbsent(name, entryOf(entry, zinfo, entries));
      }
      Entry implicitDirectory = new Entry(EntryType.DIRECTORY, null, "");
      for (String name : List.copyOf(entries.keySet())) {
        for (int slash = name.lastIndexOf('/');
            slash > 0;
            slash = name.lastIndexOf('/', slash - 1)) {
          if (entries.putIfAbsent(name.substring(0, slash), implicitDirectory) != null) {
            break;
          }
        }
      }
      return new LayerFiles(entries, whiteouts, opaque);
    }

    private static Entry entryOf(TocEntry entry, Zinfo zinfo, Map<String, Entry> earlier) {
      switch (entry.type()) {
        case REGULAR:
          return new Entry(EntryType.REGULAR, spansOf(entry, zinfo), "");
        case HARDLINK:
          // A hard link names an earlier entry of the same archive.
          String target = cleanPath(new String(entry.linkname().toByteArray(), ISO_8859_1));
          Entry linked = earlier.get(target);
          boolean regular = linked != null && linked.type() == EntryType.REGULAR;
          return new Entry(EntryType.HARDLINK, regular ? linked.spans() : null, "");
        case SYMLINK:
          return new Entry(
              EntryType.SYMLINK, null, new String(entry.linkname().toByteArray(), ISO_8859_1));
        default:
          return new Entry(entry.type(), null, "");
      }
    }

    @Nullable Entry get(String name) {
      return entries.get(name);
    }

    /**
     * Returns how this layer hides {@code name} of the layers below it, or null when it does not: a
     * whiteout deletes it or one of its directories, one of its directories is opaque, or a file
     * replaces one of its directories.
     */
    @Nullable String hidesBelow(String name) {
      String path = name;
      while (true) {
        if (whiteouts.contains(path)) {
          return WHITEOUT;
        }
        int slash = path.lastIndexOf('/');
        String parent = slash < 0 ? "" : path.substring(0, slash);
        if (opaqueDirectories.contains(parent)) {
          return WHITEOUT;
        }
        if (slash < 0) {
          return null;
        }
        Entry replaced = entries.get(parent);
        if (replaced != null && replaced.type() != EntryType.DIRECTORY) {
          return "is hidden by a file in place of one of its directories";
        }
        path = parent;
      }
    }
  }

  private static SpanRange spansOf(TocEntry entry, Zinfo zinfo) {
    int start = zinfo.spanOf(entry.uncompressedOffset());
    // The offset after the last byte, as the SOCI reference takes it: a file that ends where a
    // span starts lists that span too.
    int end = zinfo.spanOf(entry.uncompressedOffset() + entry.uncompressedSize());
    return SpanRange.of(start, Math.max(start, end));
  }

  private static String child(String directory, String name) {
    return directory.isEmpty() ? name : directory + "/" + name;
  }

  /**
   * A prefetch file that gets no spans, and why.
   *
   * @param path the cleaned path, without its leading {@code /}
   * @param reason a phrase such as {@code is in no layer with a zTOC}
   */
  record Problem(String path, String reason) {}

  /**
   * The prefetch artifacts of one image.
   *
   * @param artifacts per layer, in the order of the manifest's layers: the artifact, or null when
   *     no path was found in that layer
   * @param problems the paths that get no spans, in the order given
   */
  record Resolution(List<@Nullable PrefetchArtifact> artifacts, List<Problem> problems) {}

  /**
   * Finds each path the way a container resolves it (see the class comment) and returns the spans
   * to list per layer.
   *
   * @param layers per layer in manifest order: its files, or null for a layer without a zTOC
   * @param paths cleaned paths, as {@link #clean} returns them
   */
  static Resolution resolve(List<@Nullable LayerFiles> layers, List<String> paths) {
    List<List<SpanRange>> ranges = new ArrayList<>();
    for (int i = 0; i < layers.size(); i++) {
      ranges.add(new ArrayList<>());
    }
    List<Problem> problems = new ArrayList<>();
    for (String path : paths) {
      String reason = new Search(layers, ranges).find(new String(path.getBytes(UTF_8), ISO_8859_1));
      if (reason != null) {
        problems.add(new Problem(path, reason));
      }
    }
    List<@Nullable PrefetchArtifact> artifacts = new ArrayList<>();
    for (List<SpanRange> layer : ranges) {
      artifacts.add(layer.isEmpty() ? null : PrefetchArtifact.merging(layer));
    }
    return new Resolution(artifacts, List.copyOf(problems));
  }

  /** The lookup of one path, following at most {@link #MAX_LINKS} symbolic links. */
  private static final class Search {
    private final List<@Nullable LayerFiles> layers;
    private final List<List<SpanRange>> ranges;
    private int links;

    Search(List<@Nullable LayerFiles> layers, List<List<SpanRange>> ranges) {
      this.layers = layers;
      this.ranges = ranges;
    }

    /**
     * The top-most entry of a name, with its layer. The entry is null when no layer shows the name,
     * and {@code hiddenBy} then gives the reason when a layer hides it.
     */
    private record Found(int layer, @Nullable Entry entry, @Nullable String hiddenBy) {}

    /**
     * Adds the spans of {@code path} to its layer and returns null, or returns why it gets none.
     */
    @Nullable String find(String path) {
      String current = path;
      while (true) {
        String resolved = resolveDirectories(current);
        if (resolved == null) {
          return "has too many levels of symbolic links";
        }
        Found found = top(resolved);
        if (found.hiddenBy() != null) {
          return found.hiddenBy() + " in layer " + (found.layer() + 1);
        }
        Entry entry = found.entry();
        if (entry == null) {
          return resolved.equals(path)
              ? "is in no layer with a zTOC"
              : "leads to /" + utf8(resolved) + ", which is in no layer with a zTOC";
        }
        switch (entry.type()) {
          case REGULAR:
          case HARDLINK:
            if (entry.spans() == null) {
              return "is a hard link to a file that is not a regular file of its layer";
            }
            ranges.get(found.layer()).add(entry.spans());
            return null;
          case SYMLINK:
            if (++links > MAX_LINKS) {
              return "has too many levels of symbolic links";
            }
            current = linkTarget(resolved, entry.linkTarget());
            break;
          case DIRECTORY:
            return "is a directory";
          default:
            return "is not a regular file";
        }
      }
    }

    /**
     * Returns {@code path} with the symbolic links among its directories replaced by their targets,
     * or null after too many links.
     */
    private @Nullable String resolveDirectories(String path) {
      String[] elements = path.split("/");
      String prefix = "";
      for (int i = 0; i < elements.length - 1; i++) {
        prefix = child(prefix, elements[i]);
        Entry entry = top(prefix).entry();
        if (entry != null && entry.type() == EntryType.SYMLINK) {
          if (++links > MAX_LINKS) {
            return null;
          }
          String rest = String.join("/", List.of(elements).subList(i + 1, elements.length));
          String target = linkTarget(prefix, entry.linkTarget());
          return resolveDirectories(child(target, rest));
        }
      }
      return path;
    }

    private Found top(String name) {
      for (int i = layers.size() - 1; i >= 0; i--) {
        LayerFiles files = layers.get(i);
        if (files == null) {
          continue;
        }
        Entry entry = files.get(name);
        if (entry != null) {
          return new Found(i, entry, null);
        }
        String hiddenBy = files.hidesBelow(name);
        if (hiddenBy != null) {
          return new Found(i, null, hiddenBy);
        }
      }
      return new Found(-1, null, null);
    }

    /** Returns the cleaned path a symbolic link at {@code link} points to. */
    private static String linkTarget(String link, String target) {
      return target.startsWith("/") ? cleanPath(target) : cleanPath(parentOf(link) + "/" + target);
    }

    private static String parentOf(String path) {
      int slash = path.lastIndexOf('/');
      return slash < 0 ? "" : path.substring(0, slash);
    }

    private static String utf8(String latin1) {
      return new String(latin1.getBytes(ISO_8859_1), UTF_8);
    }
  }
}
