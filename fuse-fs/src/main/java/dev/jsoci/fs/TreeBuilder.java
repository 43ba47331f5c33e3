package dev.jsoci.fs;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.PaxRecord;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.TocIndex;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the tree of one layer from its TOC entries in tar order.
 *
 * <p>The rules, in the order they apply to each entry:
 *
 * <ul>
 *   <li>Names are cleaned as if absolute, without the leading slash, so {@code ./a/b/}, {@code
 *       a//b} and {@code /a/b} all name {@code a/b}. An entry that cleans to the empty path updates
 *       the root's attributes.
 *   <li>Parents that are symbolic links of the layer itself are followed, as containerd's unpack
 *       follows them: up to 40 links, as Linux does, and a target cannot leave the root.
 *   <li>Missing parents are created as implicit directories with the mode, owner and mtime of the
 *       directory that the {@link LowerLayers} below have at that path, or else mode 0755, uid and
 *       gid 0, mtime 0 (the epoch); never with xattrs. Like containerd's unpack, this takes no
 *       attributes from a link or file below, and the directory hides it: over {@code lib ->
 *       usr/lib} below, {@code lib/x} makes {@code lib} a directory. A parent that the layer itself
 *       has as another non-directory is replaced by one.
 *   <li>{@code .wh..wh..opq} makes its directory opaque; {@code .wh.NAME} becomes a whiteout that
 *       hides {@code NAME} of lower layers; other {@code .wh..wh.} names are overlay metadata and
 *       are dropped. This does not depend on where the entries sit in the tar.
 *   <li>A hard link adds a name for the node its cleaned target names at that point of the tar.
 *   <li>A directory entry for an existing directory replaces its attributes and keeps its children
 *       and inode; any other entry replaces the name's earlier node, so later entries win.
 *   <li>A directory that the layer both creates and whites out hides the one below: it is made
 *       opaque, since a whiteout applies to the layers below only.
 * </ul>
 *
 * <p>Inode numbers are 3 plus a node id counted from 1 in tar order, as AWS's soci-snapshotter
 * numbers them: the root is 4, and 1 and 2 stay free for the state directory and its file. Every
 * entry takes the next id, whiteouts and opaque markers included, except a hard link and a
 * directory entry for an existing directory. An implicit directory takes one when created.
 */
final class TreeBuilder {
  private static final Logger logger = LoggerFactory.getLogger(TreeBuilder.class);

  static final ByteString WHITEOUT_PREFIX = ByteString.utf8(".wh.");
  static final ByteString OPAQUE_MARKER = ByteString.utf8(".wh..wh..opq");
  private static final ByteString METADATA_PREFIX = ByteString.utf8(".wh..wh.");
  private static final ByteString XATTR_RECORD_PREFIX = ByteString.utf8("SCHILY.xattr.");
  private static final ByteString DOT = ByteString.utf8(".");
  private static final ByteString DOT_DOT = ByteString.utf8("..");

  /** Linux's {@code NAME_MAX}: the longest name of one directory entry, in bytes. */
  private static final int MAX_NAME_BYTES = 255;

  private static final Instant GO_ZERO_TIME = Instant.parse(TocEntry.ZERO_TIME);

  /** The inode number of node id 1, the root. */
  static final long FIRST_INO = 4;

  /** The maximum of symbolic links followed in the parents of one entry, as Linux allows. */
  private static final int MAX_SYMLINKS = 40;

  private final String layer;
  private final LowerLayers lowers;
  private final List<Node> nodes = new ArrayList<>();
  private final Node root;
  private boolean consultedLowers;
  private boolean built;

  /**
   * @param lowers the layers below, for the parents that the layer leaves out
   */
  TreeBuilder(String layer, LowerLayers lowers) {
    this.layer = layer;
    this.lowers = lowers;
    this.root = newNode(NodeType.DIRECTORY);
    root.setPermissions(0755);
  }

  /**
   * Adds the next entry in tar order.
   *
   * @param headerOffset offset of the entry's first header block in the tar stream
   */
  void add(TocEntry entry, long headerOffset) throws InvalidLayerException {
    if (built) {
      throw new IllegalStateException("tree of layer " + layer + " is already built");
    }
    ByteString path = TocIndex.cleanPath(entry.name());
    if (path.isEmpty()) {
      addRootEntry(entry);
      return;
    }
    checkComponents(path, entry);

    Placement placement = place(path);
    ByteString name = placement.name();
    Directory directory = placement.directory().directory();

    if (name.startsWith(WHITEOUT_PREFIX)) {
      addWhiteout(directory, name, entry);
      return;
    }
    switch (entry.type()) {
      case HARDLINK -> directory.children.put(name, hardLinkTarget(entry));
      case REGULAR -> {
        Node file = newNode(entry);
        file.setSource(entry, headerOffset);
        directory.children.put(name, file);
      }
      case DIRECTORY -> {
        Node existing = directory.children.get(name);
        if (existing != null && existing.isDirectory()) {
          copyAttributes(entry, existing);
        } else {
          directory.children.put(name, newNode(entry));
        }
      }
      default -> directory.children.put(name, newNode(entry));
    }
  }

  private void addRootEntry(TocEntry entry) {
    if (entry.type() != EntryType.DIRECTORY) {
      logger.debug(
          "ignoring toc entry for the root that is not a directory: layer={} name={} type={}",
          layer,
          entry.name(),
          entry.type());
      return;
    }
    copyAttributes(entry, root);
  }

  private void addWhiteout(Directory directory, ByteString name, TocEntry entry) {
    // The entry takes an id whatever it turns into, so the numbers of later nodes do not depend
    // on how whiteouts are presented.
    Node whiteout = newNode(NodeType.CHAR_DEVICE);
    if (name.equals(OPAQUE_MARKER)) {
      directory.opaque = true;
      return;
    }
    ByteString hidden = name.substring(WHITEOUT_PREFIX.size(), name.size());
    if (name.startsWith(METADATA_PREFIX) || hidden.isEmpty()) {
      logger.debug("ignoring overlay metadata entry: layer={} name={}", layer, entry.name());
      return;
    }
    // Overlayfs reads a character device with device number 0/0 as a whiteout.
    setMtime(entry, whiteout);
    directory.whiteouts.put(hidden, whiteout);
  }

  /**
   * Rejects a name that the kernel could never look up: readdir would present a name with a NUL
   * byte cut at the NUL, as another entry's name, and a component over 255 bytes fails every lookup
   * with {@code ENAMETOOLONG}.
   */
  private void checkComponents(ByteString path, TocEntry entry) throws InvalidLayerException {
    int componentStart = 0;
    for (int i = 0; i <= path.size(); i++) {
      if (i < path.size() && path.byteAt(i) == 0) {
        throw new InvalidLayerException(
            "invalid layer "
                + layer
                + ": entry name \""
                + printable(entry.name())
                + "\" contains a NUL byte");
      }
      if (i == path.size() || path.byteAt(i) == '/') {
        if (i - componentStart > MAX_NAME_BYTES) {
          throw new InvalidLayerException(
              "invalid layer "
                  + layer
                  + ": entry name \""
                  + printable(entry.name())
                  + "\" has a component of "
                  + (i - componentStart)
                  + " bytes, more than the "
                  + MAX_NAME_BYTES
                  + " that Linux allows");
        }
        componentStart = i + 1;
      }
    }
  }

  /** Returns a name for a message: NUL bytes written as {@code \0}, cut after 100 characters. */
  private static String printable(ByteString name) {
    String text = name.utf8().replace("\0", "\\0");
    return text.length() > 100 ? text.substring(0, 100) + "..." : text;
  }

  private Node hardLinkTarget(TocEntry entry) throws InvalidLayerException {
    // The target's parents are followed as the target's own were when it was added.
    ByteString targetPath = TocIndex.cleanPath(entry.linkname());
    Node target = null;
    if (!targetPath.isEmpty()) {
      Placement at = place(targetPath);
      target = at.directory().directory().children.get(at.name());
    }
    if (target == null) {
      throw new InvalidLayerException(
          "invalid layer "
              + layer
              + ": hard link \""
              + entry.name()
              + "\" points to \""
              + entry.linkname()
              + "\", which no earlier entry of the layer creates");
    }
    if (target.isDirectory()) {
      throw new InvalidLayerException(
          "invalid layer "
              + layer
              + ": hard link \""
              + entry.name()
              + "\" points to directory \""
              + entry.linkname()
              + "\"");
    }
    return target;
  }

  /** The directory that receives an entry, and the entry's name in it. */
  private record Placement(Node directory, ByteString name) {}

  /**
   * Returns where the entry at the cleaned {@code path} goes: its parents followed through symbolic
   * links, and created as implicit directories where nothing creates them.
   */
  private Placement place(ByteString path) {
    ByteString remaining = path;
    int links = 0;
    while (true) {
      Node node = root;
      ByteString resolved = ByteString.EMPTY;
      int last = lastSlash(remaining);
      int start = 0;
      ByteString relocated = null;
      // Once the layer hides a directory of the layers below, it hides everything under it too.
      boolean hidden = false;
      while (start <= last) {
        int end = indexOfSlash(remaining, start);
        ByteString name = remaining.substring(start, end);
        ByteString childPath = TocIndex.join(resolved, name);
        Directory directory = node.directory();
        Node child = directory.children.get(name);
        ByteString linkTarget = null;
        LowerLayers.Entry lower = LowerLayers.Entry.ABSENT;
        hidden = hidden || hidesLowers(directory, name);
        if (child != null && child.type() == NodeType.SYMLINK) {
          linkTarget = child.linkTarget();
        } else if (child == null && !hidden) {
          // A link below does not move the entry: the layer gets a directory of its own there,
          // which hides the link, as containerd's unpack creates one.
          consultedLowers = true;
          lower = lowers.lookup(childPath);
        }
        if (linkTarget != null && links < MAX_SYMLINKS) {
          links++;
          ByteString rest = remaining.substring(end + 1, remaining.size());
          relocated =
              TocIndex.cleanPath(
                  TocIndex.join(TocIndex.resolveSymlink(childPath, linkTarget), rest));
          break;
        }
        if (child == null || !child.isDirectory()) {
          if (child != null) {
            logger.debug(
                "replacing a {} with an implicit directory: layer={} path={}",
                child.type(),
                layer,
                childPath);
          }
          child = implicitDirectory(lower);
          directory.children.put(name, child);
        }
        node = child;
        resolved = childPath;
        start = end + 1;
      }
      if (relocated == null) {
        return new Placement(node, remaining.substring(last + 1, remaining.size()));
      }
      // Never empty: the cleaned rest of the path keeps at least its last name.
      remaining = relocated;
    }
  }

  /**
   * Returns whether the layer hides {@code name} of the layers below in {@code directory}: with a
   * whiteout of that name, or because the layer marks the directory opaque.
   */
  private static boolean hidesLowers(Directory directory, ByteString name) {
    return directory.opaque || directory.whiteouts.containsKey(name);
  }

  /** Returns a new implicit directory, with the attributes of {@code lower} if it is one. */
  private Node implicitDirectory(LowerLayers.Entry lower) {
    Node directory = newNode(NodeType.DIRECTORY);
    if (lower.kind() == LowerLayers.Kind.DIRECTORY) {
      directory.setPermissions(lower.permissions());
      directory.setOwner(lower.uid(), lower.gid());
      directory.setMtime(lower.mtimeSeconds(), lower.mtimeNanos());
    } else {
      directory.setPermissions(0755);
    }
    return directory;
  }

  private Node newNode(NodeType type) {
    Node node = new Node(FIRST_INO + nodes.size(), type);
    nodes.add(node);
    return node;
  }

  private Node newNode(TocEntry entry) {
    Node node = newNode(typeOf(entry));
    copyAttributes(entry, node);
    return node;
  }

  private static NodeType typeOf(TocEntry entry) {
    return switch (entry.type()) {
      case DIRECTORY -> NodeType.DIRECTORY;
      case SYMLINK -> NodeType.SYMLINK;
      case CHAR -> NodeType.CHAR_DEVICE;
      case BLOCK -> NodeType.BLOCK_DEVICE;
      case FIFO -> NodeType.FIFO;
      case REGULAR, HARDLINK -> NodeType.REGULAR_FILE;
    };
  }

  private static void copyAttributes(TocEntry entry, Node node) {
    // The tar mode may carry file-type bits too; the type comes from the entry type alone. Linux
    // gives every symbolic link 0777, whatever mode the tar gives, as unpacking does.
    node.setPermissions(node.type() == NodeType.SYMLINK ? 0777 : (int) (entry.mode() & 07777));
    node.setOwner(entry.uid(), entry.gid());
    setMtime(entry, node);
    node.setDevice(entry.devmajor(), entry.devminor());
    node.setXattrs(xattrsOf(entry));
    if (node.type() == NodeType.SYMLINK) {
      node.setLinkTarget(entry.linkname());
      node.setSize(entry.linkname().size());
    } else {
      node.setSize(entry.uncompressedSize());
    }
    node.setDataOffset(entry.uncompressedOffset());
  }

  /**
   * Copies the entry's modification time. The zero time, which the zTOC stores for an unset or
   * unrepresentable time, becomes the epoch.
   */
  private static void setMtime(TocEntry entry, Node node) {
    Instant mtime = entry.modInstant();
    if (mtime.equals(GO_ZERO_TIME)) {
      node.setMtime(0, 0);
    } else {
      node.setMtime(mtime.getEpochSecond(), mtime.getNano());
    }
  }

  private static SortedMap<ByteString, ByteString> xattrsOf(TocEntry entry) {
    SortedMap<ByteString, ByteString> xattrs = new TreeMap<>();
    for (PaxRecord record : entry.paxRecords()) {
      ByteString key = record.key();
      if (key.startsWith(XATTR_RECORD_PREFIX) && key.size() > XATTR_RECORD_PREFIX.size()) {
        xattrs.put(key.substring(XATTR_RECORD_PREFIX.size(), key.size()), record.value());
      }
    }
    return xattrs;
  }

  /**
   * Fixes link counts, parents and listings, and returns the finished tree. Walks the tree without
   * recursion, so a deep layer cannot overflow the stack.
   */
  LayerTree build() {
    if (built) {
      throw new IllegalStateException("tree of layer " + layer + " is already built");
    }
    built = true;

    long fileCount = 0;
    long blockCount = 0;
    root.directory().parent = root;
    Deque<Node> pending = new ArrayDeque<>();
    pending.push(root);
    while (!pending.isEmpty()) {
      Node node = pending.pop();
      Directory directory = node.directory();
      fileCount++;
      blockCount += node.blocks() / 8;

      // Count names: a file's link count is the number of entries naming it.
      List<DirectoryEntry> entries =
          new ArrayList<>(directory.children.size() + directory.whiteouts.size());
      int subdirectories = 0;
      for (Map.Entry<ByteString, Node> child : directory.children.entrySet()) {
        Node childNode = child.getValue();
        if (childNode.isDirectory()) {
          subdirectories++;
          childNode.directory().parent = node;
          if (directory.whiteouts.containsKey(child.getKey())) {
            // The whiteout removes the directory below; only what this layer puts in it stays.
            childNode.directory().opaque = true;
          }
          pending.push(childNode);
        } else {
          if (childNode.nlink() == 0) {
            fileCount++;
            blockCount += childNode.blocks() / 8;
          }
          childNode.setNlink(childNode.nlink() + 1);
        }
        if (!child.getKey().startsWith(WHITEOUT_PREFIX)) {
          entries.add(new DirectoryEntry(child.getKey(), childNode));
        }
      }
      node.setNlink(2 + subdirectories);

      // A whiteout is shown only where the same layer has no real entry of that name.
      for (Map.Entry<ByteString, Node> whiteout : directory.whiteouts.entrySet()) {
        if (!directory.children.containsKey(whiteout.getKey())) {
          whiteout.getValue().setNlink(1);
          entries.add(new DirectoryEntry(whiteout.getKey(), whiteout.getValue()));
          fileCount++;
        }
      }

      entries.sort((a, b) -> a.name().compareTo(b.name()));
      List<DirectoryEntry> listing = new ArrayList<>(entries.size() + 2);
      listing.add(new DirectoryEntry(DOT, node));
      listing.add(new DirectoryEntry(DOT_DOT, directory.parent));
      listing.addAll(entries);
      directory.listing = List.copyOf(listing);
    }
    return new LayerTree(layer, root, List.copyOf(nodes), fileCount, blockCount, consultedLowers);
  }

  private static int lastSlash(ByteString path) {
    for (int i = path.size() - 1; i >= 0; i--) {
      if (path.byteAt(i) == '/') {
        return i;
      }
    }
    return -1;
  }

  private static int indexOfSlash(ByteString path, int from) {
    for (int i = from; i < path.size(); i++) {
      if (path.byteAt(i) == '/') {
        return i;
      }
    }
    return path.size();
  }
}
