package dev.jsoci.fs;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.TocEntry;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * The read-only filesystem of one layer: its {@link LayerTree}, file contents through a {@link
 * ContentReader}, extended attributes, and the optional state directory. Every operation either
 * returns its result or throws {@link ErrnoException} with the error number a local filesystem
 * would give. Nothing here depends on FUSE.
 *
 * <p>Thread-safe. Content reads run on an executor with a deadline, so a read blocks only on its
 * own bytes and ends with {@link Errno#EIO} when the reader fails or passes the deadline.
 *
 * <p>The state directory {@code .soci-snapshotter}, present when {@link
 * FileSystemOptions#layerStatus()} is set, is reachable by name from the root but never listed
 * there. It contains one file, {@code <digest>.json}, regenerated from {@link LayerStatus} on each
 * read, so a probe inside a container can see how a lazily fetched layer is doing.
 */
public final class LayerFileSystem {
  /** Name of the state directory in the root, the one AWS's soci-snapshotter uses. */
  public static final String STATE_DIRECTORY_NAME = ".soci-snapshotter";

  private static final ByteString STATE_DIRECTORY = ByteString.utf8(STATE_DIRECTORY_NAME);
  private static final ByteString OPAQUE_VALUE = ByteString.utf8("y");
  private static final long STATE_DIRECTORY_INO = 1;
  private static final long STATE_FILE_INO = 2;
  private static final int MAX_NAME_LENGTH = 255;
  private static final char REPLACEMENT_CHARACTER = '\uFFFD';

  private final LayerTree tree;
  private final FileSystemOptions options;
  private final DeadlineReader reader;
  private final @Nullable Node stateDirectory;
  private final @Nullable Node stateFile;
  private final ByteString stateFileName;

  /** Regular files whose tar header matched their TOC entry. */
  private final Set<Node> verifiedFiles = ConcurrentHashMap.newKeySet();

  /**
   * Creates the filesystem of {@code tree}, reading file bytes from {@code content}.
   *
   * <p>When {@code options} names no read executor, the filesystem starts daemon threads as reads
   * need them; idle ones end after a minute, so nothing needs closing.
   */
  public LayerFileSystem(LayerTree tree, ContentReader content, FileSystemOptions options) {
    this.tree = tree;
    this.options = options;
    this.reader =
        new DeadlineReader(content, tree.layer(), options.readTimeout(), options.readExecutor());

    Supplier<LayerStatus> status = options.layerStatus();
    if (status == null) {
      this.stateDirectory = null;
      this.stateFile = null;
      this.stateFileName = ByteString.EMPTY;
    } else {
      this.stateFileName = ByteString.utf8(status.get().digest() + ".json");
      this.stateDirectory = new Node(STATE_DIRECTORY_INO, NodeType.DIRECTORY);
      this.stateFile = new Node(STATE_FILE_INO, NodeType.REGULAR_FILE);
      stateDirectory.setPermissions(0500);
      stateDirectory.setNlink(1);
      stateFile.setPermissions(0400);
      stateFile.setNlink(1);
      stateDirectory.directory().parent = tree.root();
      stateDirectory.directory().listing =
          List.of(
              new DirectoryEntry(ByteString.utf8("."), stateDirectory),
              new DirectoryEntry(ByteString.utf8(".."), tree.root()),
              new DirectoryEntry(stateFileName, stateFile));
    }
  }

  public LayerTree tree() {
    return tree;
  }

  /** Returns the layer's digest or name, for messages and logs. */
  public String layer() {
    return tree.layer();
  }

  public FileSystemOptions options() {
    return options;
  }

  /**
   * Returns the node at an absolute path whose names were decoded from bytes with {@code charset},
   * as libfuse's Java binding hands paths over. A name that does not decode cleanly, such as
   * invalid UTF-8, arrives with U+FFFD in it. It still resolves, unless another name in its
   * directory decodes to the same text.
   *
   * @throws ErrnoException {@link Errno#ENOENT} or {@link Errno#ENOTDIR} as path resolution on a
   *     local filesystem
   */
  public Node resolve(String path, Charset charset) throws ErrnoException {
    Node node = tree.root();
    int start = 0;
    while (start < path.length()) {
      int end = path.indexOf('/', start);
      if (end < 0) {
        end = path.length();
      }
      if (end > start) {
        node = lookup(node, path.substring(start, end), charset);
      }
      start = end + 1;
    }
    return node;
  }

  private Node lookup(Node directory, String name, Charset charset) throws ErrnoException {
    try {
      return lookup(directory, ByteString.of(name.getBytes(charset)));
    } catch (ErrnoException e) {
      if (e.errno() != Errno.ENOENT || name.indexOf(REPLACEMENT_CHARACTER) < 0) {
        throw e;
      }
      List<DirectoryEntry> entries = list(directory);
      for (DirectoryEntry entry : entries.subList(2, entries.size())) {
        if (new String(entry.name().toByteArray(), charset).equals(name)) {
          return entry.node();
        }
      }
      throw e;
    }
  }

  /**
   * Returns the node {@code name} presents in {@code directory}: as {@link LayerTree#lookup}, and
   * the state directory for {@value #STATE_DIRECTORY_NAME} in the root when there is one.
   *
   * @throws ErrnoException {@link Errno#ENOENT} or {@link Errno#ENOTDIR}
   */
  public Node lookup(Node directory, ByteString name) throws ErrnoException {
    if (stateDirectory != null) {
      if (directory == tree.root() && name.equals(STATE_DIRECTORY)) {
        return stateDirectory;
      }
      if (directory == stateDirectory) {
        if (name.equals(stateFileName)) {
          return stateFile;
        }
        throw new ErrnoException(Errno.ENOENT, "no such file in the state directory: " + name);
      }
    }
    return tree.lookup(directory, name);
  }

  /**
   * Returns the node with inode number {@code ino}, or null if this filesystem has none. A node
   * returned earlier by a lookup is always found.
   */
  public @Nullable Node nodeForIno(long ino) {
    if (stateDirectory != null && ino == STATE_DIRECTORY_INO) {
      return stateDirectory;
    }
    if (stateFile != null && ino == STATE_FILE_INO) {
      return stateFile;
    }
    return tree.nodeForIno(ino);
  }

  /**
   * Returns whether the node's content can change while mounted, as the state file's does; such a
   * file must be read past the page cache.
   */
  public boolean hasChangingContent(Node node) {
    return node == stateFile;
  }

  /** Returns what {@code stat} reports for the node. */
  public NodeAttributes attributes(Node node) {
    long size = node == stateFile ? stateFileContent().length : node.size();
    long blocks = node == stateFile ? (size + 4095) / 4096 * 8 : node.blocks();
    return new NodeAttributes(
        node.ino(),
        node.mode(),
        Math.max(node.nlink(), 1),
        node.uid(),
        node.gid(),
        node.rdev(),
        size,
        blocks,
        Node.BLOCK_SIZE_BYTES,
        node.mtimeSeconds(),
        node.mtimeNanos());
  }

  /**
   * Returns the directory's listing as {@link LayerTree#list} does. Entry {@code i} has the
   * directory offset {@code i + 1}.
   *
   * @throws ErrnoException {@link Errno#ENOTDIR} if the node is not a directory
   */
  public List<DirectoryEntry> list(Node directory) throws ErrnoException {
    if (directory == stateDirectory) {
      return directory.directory().listing;
    }
    return tree.list(directory);
  }

  /**
   * Returns the target of a symbolic link, exactly as the tar stores it.
   *
   * @throws ErrnoException {@link Errno#EINVAL} if the node is not a symbolic link
   */
  public ByteString readlink(Node node) throws ErrnoException {
    if (node.type() != NodeType.SYMLINK) {
      throw new ErrnoException(Errno.EINVAL, "not a symbolic link: " + node);
    }
    return node.linkTarget();
  }

  /**
   * Checks that the node may be opened.
   *
   * @param forWriting whether the open requests write access or truncation
   * @throws ErrnoException {@link Errno#EISDIR} for a directory opened for writing, {@link
   *     Errno#EROFS} for any other open for writing, {@link Errno#EIO} for a device or fifo, whose
   *     opens the kernel handles itself
   */
  public void open(Node node, boolean forWriting) throws ErrnoException {
    if (node.isDirectory()) {
      if (forWriting) {
        throw new ErrnoException(Errno.EISDIR, "cannot open a directory for writing: " + node);
      }
      return;
    }
    if (forWriting) {
      throw new ErrnoException(Errno.EROFS, "layer " + layer() + " is read-only");
    }
    if (node.type() != NodeType.REGULAR_FILE) {
      throw new ErrnoException(Errno.EIO, "cannot open a " + node.type() + " through the layer");
    }
  }

  /**
   * Reads up to {@code length} bytes of a regular file from {@code offset}, as {@link #read(Node,
   * long, ByteBuffer)} does, into a new buffer.
   *
   * @return a buffer with the bytes between position 0 and its limit
   */
  public ByteBuffer read(Node node, long offset, int length) throws ErrnoException {
    ByteBuffer bytes = ByteBuffer.allocate(Math.max(0, length));
    read(node, offset, bytes);
    return bytes.flip();
  }

  /**
   * Reads bytes of a regular file from {@code offset} into {@code destination}, from its position
   * up to its limit, and advances its position. Reads fewer bytes only at the end of the file, and
   * none at or past it. Blocks until the content reader delivers or the read timeout passes. The
   * first read of each file first verifies its tar header, unless {@link
   * FileSystemOptions#verifyTarHeaders()} is off.
   *
   * <p>Bytes the content reader has at hand are copied into {@code destination} on the calling
   * thread. Others are read on an executor thread into a buffer of this call, and copied into
   * {@code destination} once that read has finished, so that a read which passes its deadline never
   * writes into {@code destination} afterwards.
   *
   * @return the number of bytes read
   * @throws ErrnoException {@link Errno#EISDIR} for a directory, {@link Errno#EINVAL} for another
   *     non-regular file or a negative offset, {@link Errno#EIO} if the content reader fails, ends
   *     early or passes the read timeout, or if the file's tar header does not match its TOC entry
   */
  public int read(Node node, long offset, ByteBuffer destination) throws ErrnoException {
    if (node.isDirectory()) {
      throw new ErrnoException(Errno.EISDIR, "cannot read a directory: " + node);
    }
    if (node.type() != NodeType.REGULAR_FILE) {
      throw new ErrnoException(Errno.EINVAL, "cannot read a " + node.type() + ": " + node);
    }
    if (offset < 0) {
      throw new ErrnoException(Errno.EINVAL, "negative read offset: " + offset);
    }
    if (node == stateFile) {
      ByteBuffer state = slice(stateFileContent(), offset, destination.remaining());
      int count = state.remaining();
      destination.put(state);
      return count;
    }
    long available = node.size() - offset;
    if (available <= 0 || !destination.hasRemaining()) {
      return 0;
    }
    if (options.verifyTarHeaders()) {
      verifyTarHeader(node);
    }

    int count = (int) Math.min(destination.remaining(), available);
    long uncompressedOffset = node.dataOffset() + offset;
    ByteBuffer target = destination.slice().limit(count);
    if (!reader.readAtHand(uncompressedOffset, target)) {
      ByteBuffer own = ByteBuffer.allocate(count);
      reader.readWithDeadline(uncompressedOffset, own);
      destination.slice().put(own.flip());
    }
    destination.position(destination.position() + count);
    return count;
  }

  /**
   * Checks a file's tar header against its TOC entry, once per file. A check that fails, or that
   * the content reader cannot finish, runs again on the next read.
   */
  private void verifyTarHeader(Node file) throws ErrnoException {
    TocEntry entry = file.tocEntry();
    if (entry == null || verifiedFiles.contains(file)) {
      return;
    }
    long regionLength = entry.uncompressedOffset() - file.headerOffset();
    if (regionLength <= 0 || regionLength > TarHeaderCheck.MAX_HEADER_REGION_BYTES) {
      throw new ErrnoException(
          Errno.EIO,
          "file attributes do not match tar header: layer "
              + layer()
              + " file \""
              + entry.name()
              + "\" has a header region of "
              + regionLength
              + " bytes");
    }

    ByteBuffer region = ByteBuffer.allocate((int) regionLength);
    reader.readFully(file.headerOffset(), region);
    String mismatch = TarHeaderCheck.mismatch(entry, region.array(), layer());
    if (mismatch != null) {
      throw new ErrnoException(
          Errno.EIO, mismatch + " (layer " + layer() + ", file \"" + entry.name() + "\")");
    }
    verifiedFiles.add(file);
  }

  private static ByteBuffer slice(byte[] bytes, long offset, int length) {
    if (offset >= bytes.length || length <= 0) {
      return ByteBuffer.allocate(0);
    }
    int count = (int) Math.min(length, bytes.length - offset);
    return ByteBuffer.wrap(bytes, (int) offset, count).slice();
  }

  private byte[] stateFileContent() {
    Supplier<LayerStatus> status = options.layerStatus();
    return status == null ? new byte[0] : status.get().toJson().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Copies the value of extended attribute {@code name} into {@code destination}. A destination
   * with no room is a size query: nothing is copied and the length is returned. The opaque marker
   * of an opaque directory reads as {@code y}.
   *
   * @return the value's length in bytes
   * @throws ErrnoException {@link Errno#ENODATA} if the node has no such attribute, {@link
   *     Errno#ERANGE} if the value does not fit, {@link Errno#ENOSYS} for every name when xattrs
   *     are disabled
   */
  public int getxattr(Node node, ByteString name, ByteBuffer destination) throws ErrnoException {
    if (options.xattrsDisabled()) {
      throw new ErrnoException(Errno.ENOSYS, "xattrs are disabled for layer " + layer());
    }
    ByteString value;
    if (tree.isOpaque(node) && name.equals(options.opaqueXattr().xattrName())) {
      value = OPAQUE_VALUE;
    } else {
      value = node.xattrs().get(name);
    }
    if (value == null) {
      throw new ErrnoException(Errno.ENODATA, "no xattr " + name + " on " + node);
    }
    return copyOrMeasure(value, destination);
  }

  /**
   * Copies the names of the node's extended attributes into {@code destination}, each followed by a
   * NUL byte: the opaque marker first, then the stored names in byte order. A destination with no
   * room is a size query.
   *
   * @return the length of the list in bytes
   * @throws ErrnoException {@link Errno#ERANGE} if the list does not fit
   */
  public int listxattr(Node node, ByteBuffer destination) throws ErrnoException {
    ByteString opaqueName = options.opaqueXattr().xattrName();
    boolean opaque = tree.isOpaque(node);
    int length = opaque ? opaqueName.size() + 1 : 0;
    for (ByteString name : node.xattrs().keySet()) {
      if (!opaque || !name.equals(opaqueName)) {
        length += name.size() + 1;
      }
    }
    if (!destination.hasRemaining()) {
      return length;
    }
    if (destination.remaining() < length) {
      throw new ErrnoException(
          Errno.ERANGE, "xattr list of " + node + " needs " + length + " bytes");
    }

    if (opaque) {
      destination.put(opaqueName.asReadOnlyBuffer()).put((byte) 0);
    }
    for (Map.Entry<ByteString, ByteString> xattr : node.xattrs().entrySet()) {
      if (!opaque || !xattr.getKey().equals(opaqueName)) {
        destination.put(xattr.getKey().asReadOnlyBuffer()).put((byte) 0);
      }
    }
    return length;
  }

  private static int copyOrMeasure(ByteString value, ByteBuffer destination) throws ErrnoException {
    if (!destination.hasRemaining()) {
      return value.size();
    }
    if (destination.remaining() < value.size()) {
      throw new ErrnoException(Errno.ERANGE, "xattr value needs " + value.size() + " bytes");
    }
    destination.put(value.asReadOnlyBuffer());
    return value.size();
  }

  /** Returns what {@code statfs} reports, the same for every node. */
  public FileSystemStatistics statistics() {
    long files = tree.fileCount() + (stateDirectory != null ? 2 : 0);
    return new FileSystemStatistics(
        Node.BLOCK_SIZE_BYTES, Math.max(tree.blockCount(), 1), 0, files, 0, MAX_NAME_LENGTH);
  }
}
