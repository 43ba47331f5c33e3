package dev.jsoci.snapshotter.unpack;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import dev.jsoci.fs.LowerLayers;
import dev.jsoci.fs.OpaqueXattr;
import dev.jsoci.snapshotter.DirectoryTree;
import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.PaxRecord;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.TocIndex;
import dev.jsoci.ztoc.tar.TarIndex;
import dev.jsoci.ztoc.tar.TarIndexer;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Unpacks an uncompressed layer tar into a directory that overlayfs can use as a lower layer, as
 * containerd's overlay applier does.
 *
 * <p>Safety rules, which hold for any tar:
 *
 * <ul>
 *   <li>A name with a {@code ..} component is rejected; a leading {@code /} is dropped, so absolute
 *       names land inside the layer directory.
 *   <li>Every parent directory of an entry is checked without following links: a parent that is a
 *       symbolic link rejects the entry, so no entry is written through a link. The existing entry
 *       at a name is removed, never opened, before the new one is created ({@code O_EXCL}).
 *   <li>A hard link must name an entry already unpacked in this layer, resolved by the same rules.
 *   <li>Devices and fifos are created, and ownership and non-{@code user.} xattrs applied, only
 *       when running as root; otherwise they are skipped and counted.
 * </ul>
 *
 * <p>These rules rely on no other process writing in the layer directory while it is unpacked,
 * because each check and the write that follows are separate system calls.
 *
 * <p>OCI whiteouts become overlayfs ones: {@code .wh.NAME} becomes a character device 0/0 named
 * {@code NAME} unless this layer also has a real {@code NAME}, and {@code .wh..wh..opq} sets the
 * opaque xattr ({@code y}) on its directory. Other {@code .wh..wh.} names (aufs metadata) are
 * skipped.
 *
 * <p>Not thread-safe for one directory; separate directories may be unpacked concurrently.
 */
public final class LayerUnpacker {
  private static final Logger logger = LoggerFactory.getLogger(LayerUnpacker.class);

  private static final String WHITEOUT_PREFIX = ".wh.";
  private static final String WHITEOUT_META_PREFIX = ".wh..wh.";
  private static final String OPAQUE_WHITEOUT = ".wh..wh..opq";
  private static final String XATTR_PAX_PREFIX = "SCHILY.xattr.";
  private static final byte[] OPAQUE_VALUE = {'y'};

  /** The maximum of symbolic links followed in the parents of one entry, as Linux allows. */
  private static final int MAX_SYMLINKS = 40;

  private final OpaqueXattr opaqueXattr;
  private final boolean privileged;

  /**
   * @param privileged whether to create devices and fifos and to apply ownership and xattrs outside
   *     the {@code user.} namespace, which needs root
   */
  public LayerUnpacker(OpaqueXattr opaqueXattr, boolean privileged) {
    this.opaqueXattr = opaqueXattr;
    this.privileged = privileged;
  }

  /** Returns an unpacker that is privileged when this process runs as root. */
  public static LayerUnpacker forCurrentUser(OpaqueXattr opaqueXattr) {
    return new LayerUnpacker(opaqueXattr, runsAsRoot());
  }

  /** Returns whether this process's effective user is root. */
  public static boolean runsAsRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /**
   * Counts of what one unpack read, created and left out.
   *
   * @param entries tar entries read
   * @param whiteouts whiteout devices and opaque markers created
   * @param skipped entries or attributes left out because the process is not root
   */
  public record Summary(int entries, int whiteouts, int skipped) {}

  /**
   * Unpacks the tar file {@code tar} into {@code directory}, an existing directory that no other
   * process writes to. Blocks until done. On failure the directory contains part of the layer, and
   * the caller removes it.
   *
   * @param layer the layer's name for messages, such as its digest
   * @throws UnsafeEntryException if an entry would be written outside {@code directory}
   * @throws dev.jsoci.ztoc.LayerFormatException if the tar is corrupt
   * @throws IOException if creating a file fails
   */
  public Summary unpack(Path tar, Path directory, String layer) throws IOException {
    return unpack(tar, directory, layer, LowerLayers.NONE);
  }

  /**
   * Unpacks the tar file as {@link #unpack(Path, Path, String)} does, for a layer stacked on {@code
   * lowers}: a parent directory that the layer leaves out gets the mode, owner and mtime of the
   * lower layers' directory at that path, as containerd's unpack gives it. A parent that is a
   * symbolic link of this layer is followed by name, inside the layer's root; no link on disk is
   * followed.
   *
   * @throws UnsafeEntryException if an entry would be written outside {@code directory}
   * @throws dev.jsoci.ztoc.LayerFormatException if the tar is corrupt
   * @throws IOException if creating a file fails
   */
  public Summary unpack(Path tar, Path directory, String layer, LowerLayers lowers)
      throws IOException {
    Path root = directory.toAbsolutePath().normalize();
    if (!Files.isDirectory(root, NOFOLLOW_LINKS)) {
      throw new IOException("layer directory " + root + " is not a directory");
    }
    TarIndex index;
    // TODO: unpack sparse files (GNU old and PAX formats); the indexer rejects the whole layer.
    try (InputStream in = new BufferedInputStream(Files.newInputStream(tar), 1 << 16)) {
      index = TarIndexer.index(in, layer);
    }

    Run run = new Run(root, layer, lowers);
    try (FileChannel source = FileChannel.open(tar, StandardOpenOption.READ)) {
      for (TocEntry entry : index.entries()) {
        run.apply(entry, source);
      }
    }

    // Directory times last, deepest first: creating an entry changes its directory's mtime.
    List<Map.Entry<Path, TocEntry>> directories = new ArrayList<>(run.directories.entrySet());
    directories.sort(
        Comparator.comparingInt((Map.Entry<Path, TocEntry> e) -> e.getKey().getNameCount())
            .reversed());
    for (Map.Entry<Path, TocEntry> entry : directories) {
      setModificationTime(entry.getKey(), entry.getValue(), false);
    }
    for (Map.Entry<Path, FileTime> implicit : run.implicitTimes.entrySet()) {
      if (!run.directories.containsKey(implicit.getKey())) {
        Files.getFileAttributeView(implicit.getKey(), BasicFileAttributeView.class, NOFOLLOW_LINKS)
            .setTimes(implicit.getValue(), implicit.getValue(), null);
      }
    }
    return new Summary(index.entries().size(), run.whiteouts, run.skipped);
  }

  /** The state of one unpack. */
  private final class Run {
    private final Path root;
    private final String layer;
    private final LowerLayers lowers;
    private final Map<Path, TocEntry> directories = new LinkedHashMap<>();

    /** The paths that the layer's whiteouts remove from the layers below. */
    private final Set<Path> whitedOut = new HashSet<>();

    /** Parents the layer leaves out, with the mtime of the lower layers' directory there. */
    private final Map<Path, FileTime> implicitTimes = new LinkedHashMap<>();

    private int whiteouts;
    private int skipped;

    Run(Path root, String layer, LowerLayers lowers) {
      this.root = root;
      this.layer = layer;
      this.lowers = lowers;
    }

    void apply(TocEntry entry, FileChannel source) throws IOException {
      checkUtf8(entry.name(), entry.name(), "name");
      if (entry.type() == EntryType.SYMLINK || entry.type() == EntryType.HARDLINK) {
        checkUtf8(entry.name(), entry.linkname(), "link target");
      }
      String name = entry.name().utf8();
      List<String> parts = components(name);
      if (parts.isEmpty()) {
        applyToRoot(entry, name);
        return;
      }
      String baseName = parts.get(parts.size() - 1);

      // Whiteouts: the opaque marker, aufs metadata, then whiteouts of single names.
      if (baseName.equals(OPAQUE_WHITEOUT)) {
        Path opaqueDirectory = ensureDirectories(parts.subList(0, parts.size() - 1), name);
        FileTools.setXattr(opaqueDirectory, opaqueXattr.xattrName().utf8(), OPAQUE_VALUE);
        whiteouts++;
        return;
      }
      if (baseName.startsWith(WHITEOUT_META_PREFIX)) {
        logger.debug("skipped aufs metadata entry: layer={} path={}", layer, name);
        return;
      }
      Path parent = ensureDirectories(parts.subList(0, parts.size() - 1), name);
      if (baseName.startsWith(WHITEOUT_PREFIX)) {
        createWhiteout(parent, baseName.substring(WHITEOUT_PREFIX.length()), name);
        return;
      }

      Path target = parent.resolve(baseName);
      removeExisting(target, entry.type() == EntryType.DIRECTORY);
      switch (entry.type()) {
        case DIRECTORY -> {
          if (!Files.isDirectory(target, NOFOLLOW_LINKS)) {
            Files.createDirectory(target);
          }
          applyMetadata(target, entry);
          directories.put(target, entry);
          if (whitedOut.contains(target)) {
            markOpaque(target);
          }
        }
        case REGULAR -> {
          writeFile(target, entry, source, name);
          applyMetadata(target, entry);
          setModificationTime(target, entry, false);
        }
        case SYMLINK -> {
          // NOTE: Path.of drops repeated and trailing slashes of the link text.
          Files.createSymbolicLink(target, toPath(entry.linkname().utf8(), name));
          if (privileged) {
            setOwner(target, entry, NOFOLLOW_LINKS);
          }
          setModificationTime(target, entry, false);
        }
        case HARDLINK -> createHardLink(target, entry, name);
        case CHAR, BLOCK, FIFO -> createNode(target, entry, name);
      }
    }

    private void applyToRoot(TocEntry entry, String name) throws IOException {
      if (entry.type() != EntryType.DIRECTORY) {
        throw new UnsafeEntryException(
            "layer "
                + layer
                + ": entry \""
                + name
                + "\" names the layer root but is a "
                + entry.type().wireName());
      }
      applyMetadata(root, entry);
      directories.put(root, entry);
    }

    private void createWhiteout(Path parent, String hidden, String name) throws IOException {
      if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
        throw new UnsafeEntryException(
            "layer " + layer + ": whiteout \"" + name + "\" names no entry");
      }
      Path target = parent.resolve(hidden);
      whitedOut.add(target);
      BasicFileAttributes existing = attributesOf(target);
      if (existing != null) {
        // This layer also has a real entry of that name, which wins. A directory of its own then
        // hides the one below, since the whiteout removes that.
        if (existing.isDirectory()) {
          markOpaque(target);
        }
        return;
      }
      FileTools.mknod(target, 'c', 0, 0);
      whiteouts++;
    }

    private void markOpaque(Path directory) throws IOException {
      FileTools.setXattr(directory, opaqueXattr.xattrName().utf8(), OPAQUE_VALUE);
    }

    private void writeFile(Path target, TocEntry entry, FileChannel source, String name)
        throws IOException {
      try (FileChannel out =
          FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        long position = entry.uncompressedOffset();
        long remaining = entry.uncompressedSize();
        while (remaining > 0) {
          long copied = source.transferTo(position, remaining, out);
          if (copied <= 0) {
            throw new EOFException(
                "layer " + layer + ": tar ends inside the data of \"" + name + "\"");
          }
          position += copied;
          remaining -= copied;
        }
      }
    }

    private void createHardLink(Path target, TocEntry entry, String name) throws IOException {
      String linkName = entry.linkname().utf8();
      List<String> linkParts = components(linkName);
      if (linkParts.isEmpty()) {
        throw new UnsafeEntryException(
            "layer " + layer + ": hard link \"" + name + "\" points at the layer root");
      }
      // The target's parents are followed as the target's own were when it was unpacked.
      Path existing =
          ensureDirectories(linkParts.subList(0, linkParts.size() - 1), name)
              .resolve(linkParts.get(linkParts.size() - 1));
      BasicFileAttributes attributes = attributesOf(existing);
      if (attributes == null) {
        throw new IOException(
            "layer "
                + layer
                + ": hard link \""
                + name
                + "\" points to \""
                + linkName
                + "\", which no earlier entry of the layer creates");
      }
      if (attributes.isDirectory()) {
        throw new IOException(
            "layer " + layer + ": hard link \"" + name + "\" points at a directory");
      }
      if (existing.equals(target)) {
        return;
      }
      Files.createLink(target, existing);
    }

    private void createNode(Path target, TocEntry entry, String name) throws IOException {
      if (!privileged) {
        logger.debug("skipped {} without root: layer={} path={}", entry.type(), layer, name);
        skipped++;
        return;
      }
      char type =
          switch (entry.type()) {
            case CHAR -> 'c';
            case BLOCK -> 'b';
            default -> 'p';
          };
      FileTools.mknod(target, type, entry.devmajor(), entry.devminor());
      applyMetadata(target, entry);
      setModificationTime(target, entry, true);
    }

    /**
     * Returns the directory {@code parts} under the root, creating missing ones as {@link
     * #unpack(Path, Path, String, LowerLayers)} describes. Symbolic links of this layer are
     * followed by name, up to 40 of them, and never leave the root.
     *
     * @throws IOException if a parent is another non-directory, or the links form a loop
     */
    private Path ensureDirectories(List<String> parts, String name) throws IOException {
      List<String> remaining = parts;
      for (int links = 0; ; links++) {
        List<String> relocated = null;
        Path current = root;
        for (int i = 0; i < remaining.size() && relocated == null; i++) {
          String part = remaining.get(i);
          current = current.resolve(part);
          BasicFileAttributes attributes = attributesOf(current);
          String linkTarget = null;
          if (attributes != null && attributes.isSymbolicLink()) {
            linkTarget = Files.readSymbolicLink(current).toString();
          } else if (attributes == null) {
            // A link below is not followed: as in containerd's unpack, the layer gets a directory
            // of its own there, which hides the link.
            createImplicitDirectory(current, lowers.lookup(ByteString.utf8(relative(current))));
            continue;
          } else if (whitedOut.contains(current) && !attributes.isDirectory()) {
            // The layer removed this path of the layers below and now puts entries under it.
            Files.delete(current);
            createImplicitDirectory(current, LowerLayers.Entry.ABSENT);
            markOpaque(current);
            continue;
          } else if (!attributes.isDirectory()) {
            throw new IOException(
                "layer "
                    + layer
                    + ": entry \""
                    + name
                    + "\" has a parent \""
                    + relative(current)
                    + "\" that is not a directory");
          }
          if (linkTarget != null) {
            if (links >= MAX_SYMLINKS) {
              throw new IOException(
                  "layer "
                      + layer
                      + ": entry \""
                      + name
                      + "\" has parents that follow more than "
                      + MAX_SYMLINKS
                      + " symbolic links");
            }
            relocated = followed(current, linkTarget, remaining.subList(i + 1, remaining.size()));
          }
        }
        if (relocated == null) {
          return current;
        }
        remaining = relocated;
      }
    }

    /**
     * Returns the components of the path that {@code rest} names below the link at {@code link},
     * resolved by name, as {@link TocIndex#resolveSymlink} resolves it inside the layer's root.
     */
    private List<String> followed(Path link, String target, List<String> rest) {
      ByteString resolved =
          TocIndex.resolveSymlink(ByteString.utf8(relative(link)), ByteString.utf8(target));
      ByteString path =
          TocIndex.cleanPath(TocIndex.join(resolved, ByteString.utf8(String.join("/", rest))));
      return path.isEmpty() ? List.of() : List.of(path.utf8().split("/"));
    }

    /** Creates a parent that the layer leaves out, with the attributes of {@code lower}. */
    private void createImplicitDirectory(Path directory, LowerLayers.Entry lower)
        throws IOException {
      Files.createDirectory(directory);
      if (lower.kind() != LowerLayers.Kind.DIRECTORY) {
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
        return;
      }
      if (privileged) {
        Files.setAttribute(directory, "unix:uid", (int) lower.uid(), NOFOLLOW_LINKS);
        Files.setAttribute(directory, "unix:gid", (int) lower.gid(), NOFOLLOW_LINKS);
      }
      Files.setAttribute(directory, "unix:mode", lower.permissions(), NOFOLLOW_LINKS);
      implicitTimes.put(
          directory,
          FileTime.from(Instant.ofEpochSecond(lower.mtimeSeconds(), lower.mtimeNanos())));
    }

    /**
     * Rejects a name or link target that is not UTF-8: Java writes file names as UTF-8, so its
     * bytes would change, and two names could become one.
     */
    private void checkUtf8(ByteString name, ByteString text, String field) throws IOException {
      try {
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(text.asReadOnlyBuffer());
      } catch (CharacterCodingException e) {
        throw new IOException(
            "layer "
                + layer
                + ": the "
                + field
                + " of entry \""
                + name.utf8()
                + "\" is not valid UTF-8, which jsoci cannot write unchanged; containerd unpacks"
                + " such a layer itself");
      }
    }

    private String relative(Path path) {
      return root.relativize(path).toString();
    }

    /**
     * Applies ownership, mode and xattrs. Following links is safe here: {@code path} was just
     * created as something other than a symbolic link.
     */
    private void applyMetadata(Path path, TocEntry entry) throws IOException {
      if (privileged) {
        setOwner(path, entry);
      }
      // chown clears the setuid and setgid bits, so the mode comes after it.
      Files.setAttribute(path, "unix:mode", (int) (entry.mode() & 07777));
      for (PaxRecord record : entry.paxRecords()) {
        String key = record.key().utf8();
        if (!key.startsWith(XATTR_PAX_PREFIX)) {
          continue;
        }
        String xattr = key.substring(XATTR_PAX_PREFIX.length());
        if (!privileged && !xattr.startsWith("user.")) {
          skipped++;
          continue;
        }
        FileTools.setXattr(path, xattr, record.value().toByteArray());
      }
    }

    private List<String> components(String name) throws UnsafeEntryException {
      List<String> parts = new ArrayList<>();
      for (String part : name.split("/")) {
        if (part.isEmpty() || part.equals(".")) {
          continue;
        }
        if (part.equals("..")) {
          throw new UnsafeEntryException(
              "layer " + layer + ": entry \"" + name + "\" has a \"..\" component");
        }
        if (part.indexOf('\0') >= 0) {
          throw new UnsafeEntryException(
              "layer " + layer + ": entry \"" + name + "\" contains a NUL byte");
        }
        parts.add(part);
      }
      return parts;
    }

    private Path toPath(String text, String name) throws IOException {
      try {
        return Path.of(text);
      } catch (InvalidPathException e) {
        throw new IOException(
            "layer " + layer + ": symbolic link \"" + name + "\" has an invalid target", e);
      }
    }
  }

  private static void setOwner(Path path, TocEntry entry, LinkOption... options)
      throws IOException {
    // The JDK takes ids as int. The cast keeps the 32 bits that chown(2) receives, but id
    // 2^32-1 becomes -1, which chown reads as "leave unchanged".
    Files.setAttribute(path, "unix:uid", (int) entry.uid(), options);
    Files.setAttribute(path, "unix:gid", (int) entry.gid(), options);
  }

  /**
   * Sets the modification time, and the access time to the same value. A device or fifo gets it
   * from {@code touch}, because the JDK opens a file to set its times.
   */
  private static void setModificationTime(Path path, TocEntry entry, boolean special)
      throws IOException {
    Instant time = entry.modInstant();
    if (time.equals(Instant.parse(TocEntry.ZERO_TIME))) {
      return;
    }
    if (special) {
      FileTools.touch(path, time);
      return;
    }
    FileTime fileTime = FileTime.from(time);
    Files.getFileAttributeView(path, BasicFileAttributeView.class, NOFOLLOW_LINKS)
        .setTimes(fileTime, fileTime, null);
  }

  /** Removes the entry at {@code target} unless both it and the new entry are directories. */
  private static void removeExisting(Path target, boolean directory) throws IOException {
    BasicFileAttributes existing = attributesOf(target);
    if (existing == null || (directory && existing.isDirectory())) {
      return;
    }
    if (!existing.isDirectory()) {
      Files.delete(target);
      return;
    }
    // The deletion does not follow symbolic links, so it stays inside the directory.
    DirectoryTree.delete(target);
  }

  private static @Nullable BasicFileAttributes attributesOf(Path path) throws IOException {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class, NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return null;
    }
  }
}
