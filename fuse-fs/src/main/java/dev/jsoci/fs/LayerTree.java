package dev.jsoci.fs;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.TocIndex;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocFormatException;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The immutable directory tree of one layer, built from its TOC, in the form overlayfs expects of a
 * lower directory: whiteouts are character devices 0/0 and opaque directories are marked.
 *
 * <p>Safe to read from any thread. {@link TreeBuilder} documents how entries become nodes.
 */
public final class LayerTree {
  private final String layer;
  private final Node root;
  private final List<Node> nodesByIno;
  private final long fileCount;
  private final long blockCount;
  private final boolean dependsOnLowerLayers;

  LayerTree(
      String layer,
      Node root,
      List<Node> nodesByIno,
      long fileCount,
      long blockCount,
      boolean dependsOnLowerLayers) {
    this.layer = layer;
    this.root = root;
    this.nodesByIno = nodesByIno;
    this.fileCount = fileCount;
    this.blockCount = blockCount;
    this.dependsOnLowerLayers = dependsOnLowerLayers;
  }

  /**
   * Builds the tree of a layer from its zTOC, taking the entries in tar order.
   *
   * @param layer the layer's digest or name, for messages and logs
   * @throws ZtocFormatException if the zTOC's entries overlap
   * @throws InvalidLayerException if a hard link points to a directory or to a path that no earlier
   *     entry creates
   */
  public static LayerTree of(Ztoc ztoc, String layer)
      throws ZtocFormatException, InvalidLayerException {
    return of(TocIndex.of(ztoc, layer), layer);
  }

  /**
   * Builds the tree of a layer from the tar-ordered entries of its zTOC, indexed and checked by the
   * caller.
   *
   * @param layer the layer's digest or name, for messages and logs
   * @throws InvalidLayerException if a hard link points to a directory or to a path that no earlier
   *     entry creates
   */
  public static LayerTree of(TocIndex index, String layer) throws InvalidLayerException {
    return of(index, layer, LowerLayers.NONE);
  }

  /**
   * Builds the tree of a layer as {@link #of(TocIndex, String)} does, taking the parent directories
   * that the layer leaves out from {@code lowers}, the layers it is mounted over.
   *
   * @throws InvalidLayerException if a hard link points to a directory or to a path that no earlier
   *     entry creates
   */
  public static LayerTree of(TocIndex index, String layer, LowerLayers lowers)
      throws InvalidLayerException {
    TreeBuilder builder = new TreeBuilder(layer, lowers);
    for (TocIndex.Entry entry : index.entries()) {
      builder.add(entry.toc(), entry.tarHeaderOffset());
    }
    return builder.build();
  }

  /**
   * Builds the tree of a layer from TOC entries in tar order. Each entry's header is taken to start
   * where the previous entry's data ends, rounded up to the 512-byte block.
   *
   * @param layer the layer's digest or name, for messages and logs
   * @throws InvalidLayerException if a hard link points to a directory or to a path that no earlier
   *     entry creates
   */
  public static LayerTree of(List<TocEntry> entriesInTarOrder, String layer)
      throws InvalidLayerException {
    TreeBuilder builder = new TreeBuilder(layer, LowerLayers.NONE);
    long headerOffset = 0;
    for (TocEntry entry : entriesInTarOrder) {
      builder.add(entry, headerOffset);
      long end = entry.uncompressedOffset() + entry.uncompressedSize();
      headerOffset = (end + 511) / 512 * 512;
    }
    return builder.build();
  }

  /**
   * Returns whether the layer leaves out a parent directory, so that a tree built over other lower
   * layers may differ: see {@link #of(TocIndex, String, LowerLayers)}.
   */
  public boolean dependsOnLowerLayers() {
    return dependsOnLowerLayers;
  }

  /** Returns the layer's digest or name as given when the tree was built. */
  public String layer() {
    return layer;
  }

  public Node root() {
    return root;
  }

  /**
   * Returns the node that {@code name} presents in {@code directory}: the real entry if there is
   * one, else the whiteout that hides {@code name}.
   *
   * @throws ErrnoException {@link Errno#ENOTDIR} if {@code directory} is not a directory; {@link
   *     Errno#ENOENT} if nothing has that name, and for every name that starts with {@code .wh.}
   */
  public Node lookup(Node directory, ByteString name) throws ErrnoException {
    if (!directory.isDirectory()) {
      throw new ErrnoException(Errno.ENOTDIR, "not a directory: " + directory);
    }
    if (name.startsWith(TreeBuilder.WHITEOUT_PREFIX)) {
      throw new ErrnoException(Errno.ENOENT, "whiteout names are hidden: " + name);
    }
    Directory contents = directory.directory();
    Node node = contents.children.get(name);
    if (node == null) {
      node = contents.whiteouts.get(name);
    }
    if (node == null) {
      throw new ErrnoException(Errno.ENOENT, "no such file: " + name);
    }
    return node;
  }

  /**
   * Returns the node at a path, cleaned as tar names are ({@code ./a/b}, {@code /a/b} and {@code
   * a/b/} are the same path), or empty if {@link #lookup} fails on any component.
   */
  public Optional<Node> find(ByteString path) {
    ByteString cleaned = TocIndex.cleanPath(path);
    Node node = root;
    int start = 0;
    while (start < cleaned.size()) {
      int end = start;
      while (end < cleaned.size() && cleaned.byteAt(end) != '/') {
        end++;
      }
      try {
        node = lookup(node, cleaned.substring(start, end));
      } catch (ErrnoException e) {
        return Optional.empty();
      }
      start = end + 1;
    }
    return Optional.of(node);
  }

  /**
   * Returns the listing of a directory: {@code .} and {@code ..} first, then the presented names in
   * unsigned byte order. Whiteouts appear under the name they hide, {@code .wh.} names never. Entry
   * {@code i} has the directory offset {@code i + 1}, the same for the life of the tree.
   *
   * @throws ErrnoException {@link Errno#ENOTDIR} if {@code directory} is not a directory
   */
  public List<DirectoryEntry> list(Node directory) throws ErrnoException {
    if (!directory.isDirectory()) {
      throw new ErrnoException(Errno.ENOTDIR, "not a directory: " + directory);
    }
    return directory.directory().listing;
  }

  /** Returns whether the layer marks the directory opaque with a {@code .wh..wh..opq} entry. */
  public boolean isOpaque(Node directory) {
    return directory.isDirectory() && directory.directory().opaque;
  }

  /** Returns the node with inode number {@code ino}, or null if the tree has none. */
  @Nullable Node nodeForIno(long ino) {
    long index = ino - TreeBuilder.FIRST_INO;
    if (index < 0 || index >= nodesByIno.size()) {
      return null;
    }
    return nodesByIno.get((int) index);
  }

  /** Returns the number of inodes the tree presents, whiteouts included. */
  public long fileCount() {
    return fileCount;
  }

  /** Returns the sum of the presented inodes' sizes, each rounded up to 4096-byte blocks. */
  public long blockCount() {
    return blockCount;
  }
}
