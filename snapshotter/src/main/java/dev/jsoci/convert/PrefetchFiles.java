package dev.jsoci.convert;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import dev.jsoci.oci.PrefetchArtifact;
import dev.jsoci.oci.PrefetchArtifact.SpanRange;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.Ztoc;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * The files whose spans a converted image lists in prefetch artifacts, and the search that finds
 * them in the layers.
 *
 * <p>Paths are cleaned as absolute paths and compared without their leading {@code /}. A layer's
 * tar names are compared as written and, when none matches, cleaned the same way, so that names
 * written as {@code ./etc/foo} are found too; the SOCI reference compares only the names as
 * written. Comparisons are on bytes: paths are taken as UTF-8.
 */
final class PrefetchFiles {
  private PrefetchFiles() {}

  /**
   * Returns each path cleaned as an absolute path ({@code /a/../b/./c/} becomes {@code b/c}),
   * without duplicates, in the order given. Blank paths and the root, which has no data, are
   * dropped.
   *
   * @throws IllegalArgumentException naming a path that contains a NUL character
   */
  static List<String> clean(List<String> paths) {
    Set<String> cleaned = new LinkedHashSet<>();
    for (String path : paths) {
      String trimmed = path.strip();
      if (trimmed.isEmpty()) {
        continue;
      }
      if (trimmed.indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "prefetch file \"" + trimmed.replace("\0", "\\0") + "\" contains a NUL character");
      }
      String clean = cleanPath(trimmed);
      if (!clean.isEmpty()) {
        cleaned.add(clean);
      }
    }
    return List.copyOf(cleaned);
  }

  /**
   * Cleans {@code path} lexically as an absolute path and returns it without the leading {@code
   * /}: repeated slashes become one, {@code .} elements go, and {@code ..} removes the element
   * before it (at the root it is dropped). The root itself becomes the empty string.
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
   * Returns, for each of the cleaned {@code paths} that {@code ztoc} lists, the spans of its data:
   * from the span of its first byte to the span of the offset just after its last byte, as the SOCI
   * reference computes them. A name as written wins over a cleaned one, and the first entry of a
   * name wins over later ones.
   */
  static Map<String, SpanRange> spansIn(Ztoc ztoc, Zinfo zinfo, List<String> paths) {
    Map<String, String> byBytes = new HashMap<>();
    for (String path : paths) {
      byBytes.put(new String(path.getBytes(UTF_8), ISO_8859_1), path);
    }
    Map<String, SpanRange> exact = new HashMap<>();
    Map<String, SpanRange> cleaned = new HashMap<>();
    for (TocEntry entry : ztoc.entries()) {
      String name = new String(entry.name().toByteArray(), ISO_8859_1);
      String path = byBytes.get(name);
      if (path != null) {
        exact.putIfAbsent(path, spansOf(entry, zinfo));
        continue;
      }
      path = byBytes.get(cleanPath(name));
      if (path != null) {
        cleaned.putIfAbsent(path, spansOf(entry, zinfo));
      }
    }
    cleaned.putAll(exact);
    return cleaned;
  }

  private static SpanRange spansOf(TocEntry entry, Zinfo zinfo) {
    int start = zinfo.spanOf(entry.uncompressedOffset());
    // The offset after the last byte, as the SOCI reference takes it: a file that ends where a
    // span starts lists that span too.
    int end = zinfo.spanOf(entry.uncompressedOffset() + entry.uncompressedSize());
    return SpanRange.of(start, Math.max(start, end));
  }

  /**
   * The prefetch artifacts of one image.
   *
   * @param artifacts per layer, in the order of the manifest's layers: the artifact, or null when
   *     no path was found in that layer
   * @param notFound the paths no layer with a zTOC lists
   */
  record Resolution(List<@Nullable PrefetchArtifact> artifacts, List<String> notFound) {}

  /**
   * Finds each path in the top-most layer that lists it, whose copy is the one a container reads:
   * the search runs from the last layer of the manifest to the first, among the layers with a
   * zTOC.
   *
   * @param layerSpans per layer in manifest order: the spans of the paths it lists ({@link
   *     #spansIn}), or null for a layer without a zTOC
   */
  static Resolution resolve(List<@Nullable Map<String, SpanRange>> layerSpans, List<String> paths) {
    List<List<SpanRange>> ranges = new ArrayList<>();
    for (int i = 0; i < layerSpans.size(); i++) {
      ranges.add(new ArrayList<>());
    }
    List<String> notFound = new ArrayList<>();
    for (String path : paths) {
      boolean found = false;
      for (int i = layerSpans.size() - 1; i >= 0 && !found; i--) {
        Map<String, SpanRange> spans = layerSpans.get(i);
        SpanRange range = spans == null ? null : spans.get(path);
        if (range != null) {
          ranges.get(i).add(range);
          found = true;
        }
      }
      if (!found) {
        notFound.add(path);
      }
    }
    List<@Nullable PrefetchArtifact> artifacts = new ArrayList<>();
    for (List<SpanRange> layer : ranges) {
      artifacts.add(layer.isEmpty() ? null : PrefetchArtifact.merging(layer));
    }
    return new Resolution(artifacts, List.copyOf(notFound));
  }
}
