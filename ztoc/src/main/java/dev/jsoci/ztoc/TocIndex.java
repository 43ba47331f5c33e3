package dev.jsoci.ztoc;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The entries of a zTOC sorted by tar offset, each with the offset of its tar header, and a lookup
 * by cleaned path.
 *
 * <p>A tar header region starts where the previous entry's data ends, rounded up to the 512-byte
 * block, and ends at the entry's {@code uncompressedOffset}. A zTOC whose entries overlap that way
 * is rejected, as the reference snapshotter rejects it.
 */
public final class TocIndex {
  /** Maximum number of links followed when resolving one path, as Linux's MAXSYMLINKS. */
  private static final int MAX_LINKS = 40;

  /**
   * One TOC entry with the offset of its first tar header block.
   *
   * @param tarHeaderOffset offset in the tar stream of the entry's first header block, including
   *     any PAX or GNU long-name blocks before it
   */
  public record Entry(TocEntry toc, long tarHeaderOffset) {
    /**
     * Returns the length of the header region, {@code toc().uncompressedOffset() -
     * tarHeaderOffset}.
     */
    public long headerLength() {
      return toc.uncompressedOffset() - tarHeaderOffset;
    }
  }

  private final List<Entry> entries;
  private final Map<ByteString, TocEntry> byPath;

  private TocIndex(List<Entry> entries, Map<ByteString, TocEntry> byPath) {
    this.entries = entries;
    this.byPath = byPath;
  }

  /**
   * Returns where the data of {@code entry} ends in the tar stream.
   *
   * @throws ZtocFormatException if it ends past {@code archiveSize} or the sum overflows
   */
  private static long checkedEnd(TocEntry entry, long archiveSize, String source)
      throws ZtocFormatException {
    long end;
    try {
      end = Math.addExact(entry.uncompressedOffset(), entry.uncompressedSize());
    } catch (ArithmeticException e) {
      end = Long.MAX_VALUE;
    }
    // The second bound keeps the 512-byte alignment of the end from overflowing.
    if (end > archiveSize || end > Long.MAX_VALUE - 511) {
      throw new ZtocFormatException(
          "invalid ztoc "
              + source
              + ": toc entry \""
              + entry.name()
              + "\" at offset "
              + entry.uncompressedOffset()
              + " with size "
              + entry.uncompressedSize()
              + " ends past the uncompressed archive size of "
              + archiveSize
              + " bytes");
    }
    return end;
  }

  /**
   * Sorts and checks the entries of {@code ztoc}.
   *
   * @param source what the zTOC is, for messages (a digest or a file name)
   * @throws ZtocFormatException if an entry starts before the previous one ends, or its data ends
   *     past the uncompressed archive size
   */
  public static TocIndex of(Ztoc ztoc, String source) throws ZtocFormatException {
    List<TocEntry> sorted = new ArrayList<>(ztoc.entries());
    sorted.sort(Comparator.comparingLong(TocEntry::uncompressedOffset));

    List<Entry> entries = new ArrayList<>(sorted.size());
    Map<ByteString, TocEntry> byPath = new HashMap<>();
    long next = 0;
    for (TocEntry entry : sorted) {
      if (entry.uncompressedSize() < 0 || next > entry.uncompressedOffset()) {
        throw new ZtocFormatException(
            "invalid ztoc "
                + source
                + ": invalid toc entry \""
                + entry.name()
                + "\" at offset "
                + entry.uncompressedOffset()
                + " with size "
                + entry.uncompressedSize()
                + ", previous entry ends at "
                + next);
      }
      entries.add(new Entry(entry, next));
      long end = checkedEnd(entry, ztoc.uncompressedArchiveSize(), source);
      next = align512(end);
    }

    // Later entries in tar order replace earlier ones with the same path, as extraction does.
    for (TocEntry entry : ztoc.entries()) {
      byPath.put(cleanPath(entry.name()), entry);
    }
    return new TocIndex(List.copyOf(entries), byPath);
  }

  private static long align512(long offset) {
    long remainder = offset % 512;
    return remainder == 0 ? offset : offset + 512 - remainder;
  }

  /** Returns the entries sorted by {@code uncompressedOffset}. */
  public List<Entry> entries() {
    return entries;
  }

  /** Returns the last entry in tar order whose cleaned name is {@code path}'s cleaned form. */
  public Optional<TocEntry> find(ByteString path) {
    return Optional.ofNullable(byPath.get(cleanPath(path)));
  }

  /**
   * Returns the entry that holds the contents of {@code path}: hard links and symbolic links are
   * followed inside the layer, relative link targets from the link's directory.
   *
   * @throws EntryNotFoundException if the path, or a link target, is not in the layer, or links
   *     nest deeper than 40
   */
  public TocEntry resolve(ByteString path) throws EntryNotFoundException {
    ByteString current = cleanPath(path);
    for (int links = 0; links <= MAX_LINKS; links++) {
      TocEntry entry = byPath.get(current);
      if (entry == null) {
        ByteString throughLink = throughLinkedDirectory(current);
        if (throughLink != null) {
          current = throughLink;
          continue;
        }
        if (current.equals(cleanPath(path))) {
          throw new EntryNotFoundException("path \"" + path + "\" is not in the layer");
        }
        throw new EntryNotFoundException(
            "path \"" + path + "\" links to \"" + current + "\", which is not in the layer");
      }
      switch (entry.type()) {
        case HARDLINK -> current = cleanPath(entry.linkname());
        case SYMLINK -> current = resolveSymlink(current, entry.linkname());
        default -> {
          return entry;
        }
      }
    }
    throw new EntryNotFoundException("path \"" + path + "\": too many levels of links");
  }

  /**
   * Returns {@code path} with its first directory that is a symbolic link replaced by the link's
   * target, as the kernel walks a path, or null when no directory on the way is a symbolic link.
   */
  private @Nullable ByteString throughLinkedDirectory(ByteString path) {
    for (int i = 0; i < path.size(); i++) {
      if (path.byteAt(i) != '/') {
        continue;
      }
      ByteString directory = path.substring(0, i);
      TocEntry entry = byPath.get(directory);
      if (entry != null && entry.type() == EntryType.SYMLINK) {
        ByteString target = resolveSymlink(directory, entry.linkname());
        return cleanPath(joined(target, path.substring(i, path.size())));
      }
    }
    return null;
  }

  /**
   * Returns the cleaned path that the symbolic link at the cleaned {@code linkPath} points to: an
   * absolute {@code target} starts at the root, a relative one at the link's directory, and {@code
   * ..} stops at the root.
   */
  public static ByteString resolveSymlink(ByteString linkPath, ByteString target) {
    if (target.size() > 0 && target.byteAt(0) == '/') {
      return cleanPath(target);
    }
    int slash = lastSlash(linkPath);
    ByteString parent = slash < 0 ? ByteString.EMPTY : linkPath.substring(0, slash + 1);
    return cleanPath(joined(parent, target));
  }

  /** Returns {@code first} followed by {@code second}. */
  private static ByteString joined(ByteString first, ByteString second) {
    byte[] bytes = new byte[first.size() + second.size()];
    System.arraycopy(first.toByteArray(), 0, bytes, 0, first.size());
    System.arraycopy(second.toByteArray(), 0, bytes, first.size(), second.size());
    return ByteString.of(bytes);
  }

  private static int lastSlash(ByteString path) {
    for (int i = path.size() - 1; i >= 0; i--) {
      if (path.byteAt(i) == '/') {
        return i;
      }
    }
    return -1;
  }

  /**
   * Returns {@code name} under the cleaned path {@code directory}: {@code directory/name}, or
   * {@code name} alone when {@code directory} is the root (empty).
   */
  public static ByteString join(ByteString directory, ByteString name) {
    if (directory.isEmpty()) {
      return name;
    }
    byte[] joined = new byte[directory.size() + 1 + name.size()];
    System.arraycopy(directory.toByteArray(), 0, joined, 0, directory.size());
    joined[directory.size()] = '/';
    System.arraycopy(name.toByteArray(), 0, joined, directory.size() + 1, name.size());
    return ByteString.of(joined);
  }

  /**
   * Cleans a tar name or user path lexically, as if it were absolute, and drops the leading slash:
   * {@code ./a//b/../c/} becomes {@code a/c}, and {@code /}, {@code .} and {@code ..} become the
   * empty root path.
   */
  public static ByteString cleanPath(ByteString name) {
    List<ByteString> parts = new ArrayList<>();
    int start = 0;
    for (int i = 0; i <= name.size(); i++) {
      if (i == name.size() || name.byteAt(i) == '/') {
        ByteString part = name.substring(start, i);
        start = i + 1;
        if (part.isEmpty() || (part.size() == 1 && part.byteAt(0) == '.')) {
          continue;
        }
        if (part.size() == 2 && part.byteAt(0) == '.' && part.byteAt(1) == '.') {
          if (!parts.isEmpty()) {
            parts.remove(parts.size() - 1);
          }
          continue;
        }
        parts.add(part);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(name.size());
    for (int i = 0; i < parts.size(); i++) {
      if (i > 0) {
        out.write('/');
      }
      out.writeBytes(parts.get(i).toByteArray());
    }
    return ByteString.of(out.toByteArray());
  }
}
