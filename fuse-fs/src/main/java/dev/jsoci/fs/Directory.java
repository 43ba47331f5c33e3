package dev.jsoci.fs;

import dev.jsoci.ztoc.ByteString;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * The contents of a directory node: its real children by name, its whiteouts by the name they hide,
 * whether it is opaque, and its listing once the tree is built.
 */
final class Directory {
  final Map<ByteString, Node> children = new HashMap<>();
  final Map<ByteString, Node> whiteouts = new HashMap<>();
  boolean opaque;

  /** The parent directory, the root's own node for the root; set when the tree is built. */
  @Nullable Node parent;

  /** {@code .}, {@code ..}, then the presented names in byte order; set when the tree is built. */
  List<DirectoryEntry> listing = List.of();
}
