package dev.jsoci.fs;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.TocEntry;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * One inode of a layer's tree: a file, directory, link target, device, fifo, or the character
 * device 0/0 that presents a whiteout. Hard links are several directory entries naming the same
 * node.
 *
 * <p>A node is changed only while {@link LayerTree} builds the tree; once the tree is returned it
 * is immutable and safe to read from any thread.
 */
public final class Node {
  /** {@code st_blocks} counts 512-byte units. */
  private static final int BLOCK_UNIT_BYTES = 512;

  /** Block size reported in {@code st_blksize}; sizes round up to it when counting blocks. */
  static final int BLOCK_SIZE_BYTES = 4096;

  private final long ino;
  private final NodeType type;
  private final @Nullable Directory directory;

  private int permissions;
  private long uid;
  private long gid;
  private long size;
  private long mtimeSeconds;
  private int mtimeNanos;
  private long devMajor;
  private long devMinor;
  private ByteString linkTarget = ByteString.EMPTY;
  private long dataOffset;
  private SortedMap<ByteString, ByteString> xattrs = Collections.emptySortedMap();
  private int nlink;
  private @Nullable TocEntry tocEntry;
  private long headerOffset;

  Node(long ino, NodeType type) {
    this.ino = ino;
    this.type = type;
    this.directory = type == NodeType.DIRECTORY ? new Directory() : null;
  }

  /** Returns the inode number, unique in the layer and the same each time the TOC is read. */
  public long ino() {
    return ino;
  }

  public NodeType type() {
    return type;
  }

  public boolean isDirectory() {
    return type == NodeType.DIRECTORY;
  }

  /** Returns {@code st_mode}: the type bits, then setuid, setgid, sticky and permission bits. */
  public int mode() {
    return type.typeBits() | permissions;
  }

  /** Returns the setuid, setgid, sticky and permission bits, {@code mode() & 07777}. */
  public int permissions() {
    return permissions;
  }

  /**
   * Returns the link count: for files, the number of names that refer to the node; for directories,
   * 2 plus the number of subdirectories.
   */
  public int nlink() {
    return nlink;
  }

  public long uid() {
    return uid;
  }

  public long gid() {
    return gid;
  }

  /**
   * Returns the size in bytes: the file length for regular files, the target length for symbolic
   * links, and the tar header's size field (normally 0) for other types.
   */
  public long size() {
    return size;
  }

  /** Returns {@code st_blocks}: the size rounded up to 4096 bytes, counted in 512-byte units. */
  public long blocks() {
    return ceilDiv(size, BLOCK_SIZE_BYTES) * (BLOCK_SIZE_BYTES / BLOCK_UNIT_BYTES);
  }

  /** Returns the modification time in whole seconds since the epoch; negative before 1970. */
  public long mtimeSeconds() {
    return mtimeSeconds;
  }

  /** Returns the nanoseconds, 0 to 999,999,999, added to {@link #mtimeSeconds()}. */
  public int mtimeNanos() {
    return mtimeNanos;
  }

  public long devMajor() {
    return devMajor;
  }

  public long devMinor() {
    return devMinor;
  }

  /**
   * Returns {@code st_rdev} in the Linux encoding of glibc's {@code makedev} for character and
   * block devices, and 0 for other types.
   */
  public long rdev() {
    if (type != NodeType.CHAR_DEVICE && type != NodeType.BLOCK_DEVICE) {
      return 0;
    }
    return ((devMajor & 0xFFFF_F000L) << 32)
        | ((devMajor & 0xFFFL) << 8)
        | ((devMinor & 0xFFFF_FF00L) << 12)
        | (devMinor & 0xFFL);
  }

  /** Returns the target of a symbolic link as stored in the tar, or empty for other types. */
  public ByteString linkTarget() {
    return linkTarget;
  }

  /** Returns the offset in the layer's tar stream where a regular file's bytes start. */
  public long dataOffset() {
    return dataOffset;
  }

  /** Returns the extended attributes stored in the layer, by name; not the opaque marker. */
  public SortedMap<ByteString, ByteString> xattrs() {
    return xattrs;
  }

  /** Returns the TOC entry a regular file was made from, or null for other nodes. */
  @Nullable TocEntry tocEntry() {
    return tocEntry;
  }

  /** Returns the offset of the first tar header block of {@link #tocEntry()}. */
  long headerOffset() {
    return headerOffset;
  }

  Directory directory() {
    if (directory == null) {
      throw new IllegalStateException("node " + ino + " is a " + type + ", not a directory");
    }
    return directory;
  }

  void setPermissions(int permissions) {
    this.permissions = permissions & 07777;
  }

  void setOwner(long uid, long gid) {
    this.uid = uid;
    this.gid = gid;
  }

  void setSize(long size) {
    this.size = size;
  }

  void setMtime(long seconds, int nanos) {
    this.mtimeSeconds = seconds;
    this.mtimeNanos = nanos;
  }

  void setDevice(long major, long minor) {
    this.devMajor = major;
    this.devMinor = minor;
  }

  void setLinkTarget(ByteString linkTarget) {
    this.linkTarget = linkTarget;
  }

  void setDataOffset(long dataOffset) {
    this.dataOffset = dataOffset;
  }

  void setXattrs(SortedMap<ByteString, ByteString> xattrs) {
    this.xattrs =
        xattrs.isEmpty()
            ? Collections.emptySortedMap()
            : Collections.unmodifiableSortedMap(new TreeMap<>(xattrs));
  }

  void setSource(TocEntry tocEntry, long headerOffset) {
    this.tocEntry = tocEntry;
    this.headerOffset = headerOffset;
  }

  void setNlink(int nlink) {
    this.nlink = nlink;
  }

  private static long ceilDiv(long dividend, long divisor) {
    return dividend <= 0 ? 0 : (dividend - 1) / divisor + 1;
  }

  @Override
  public String toString() {
    return type + " " + ino;
  }
}
