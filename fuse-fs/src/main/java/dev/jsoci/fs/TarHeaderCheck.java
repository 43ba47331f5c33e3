package dev.jsoci.fs;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.PaxRecord;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.tar.ExactlySkippable;
import dev.jsoci.ztoc.tar.TarIndex;
import dev.jsoci.ztoc.tar.TarIndexer;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Compares a TOC entry with the tar header it claims to describe, read from the layer itself. A
 * zTOC that belongs to another layer, or layer bytes that differ from the ones the zTOC was built
 * from, would otherwise serve wrong bytes under a right-looking name.
 *
 * <p>The header region, from the entry's first header block (PAX and GNU long-name blocks included)
 * up to its data, is parsed by the same tar reader that builds TOCs, and must yield exactly this
 * one entry: same name, type, size, link target, mode, owner, modification time, device numbers and
 * {@code SCHILY.xattr.} records.
 */
final class TarHeaderCheck {
  /**
   * The largest header region accepted: three meta headers ({@code x}, {@code L}, {@code K}) of at
   * most 1 MiB each, as the tar reader allows, with their header blocks and the entry's own.
   */
  static final long MAX_HEADER_REGION_BYTES = 3 * ((1L << 20) + 512) + 512;

  private static final ByteString XATTR_RECORD_PREFIX = ByteString.utf8("SCHILY.xattr.");

  private TarHeaderCheck() {}

  /**
   * Returns null when {@code headerRegion} is the header of {@code expected}, or else a message
   * naming the first field that differs.
   *
   * @param headerRegion the bytes from the entry's first header block to its data
   */
  static @Nullable String mismatch(TocEntry expected, byte[] headerRegion, String layer) {
    TarIndex index;
    try {
      index = TarIndexer.index(new HeaderThenZeros(headerRegion), layer);
    } catch (IOException e) {
      return "file attributes do not match tar header: " + e.getMessage();
    }
    if (index.entries().size() != 1) {
      return "file attributes do not match tar header: the header region contains "
          + index.entries().size()
          + " entries";
    }
    TocEntry actual = index.entries().get(0);
    if (actual.uncompressedOffset() != headerRegion.length) {
      return "file attributes do not match tar header: the header ends "
          + actual.uncompressedOffset()
          + " bytes into a region of "
          + headerRegion.length;
    }
    if (!actual.name().equals(expected.name())) {
      return "file name does not match tar header: \""
          + actual.name()
          + "\" in the tar, \""
          + expected.name()
          + "\" in the toc";
    }
    return differentField(expected, actual);
  }

  private static @Nullable String differentField(TocEntry expected, TocEntry actual) {
    Object[][] fields = {
      {"type", expected.type(), actual.type()},
      {"size", expected.uncompressedSize(), actual.uncompressedSize()},
      {"linkname", expected.linkname(), actual.linkname()},
      {
        "mode",
        Long.toOctalString(expected.mode() & 07777),
        Long.toOctalString(actual.mode() & 07777)
      },
      {"uid", expected.uid(), actual.uid()},
      {"gid", expected.gid(), actual.gid()},
      {"mtime", expected.modInstant(), actual.modInstant()},
      {"devmajor", expected.devmajor(), actual.devmajor()},
      {"devminor", expected.devminor(), actual.devminor()},
      {"xattrs", xattrRecords(expected), xattrRecords(actual)},
    };
    for (Object[] field : fields) {
      if (!field[1].equals(field[2])) {
        return "file attributes do not match tar header: "
            + field[0]
            + " is "
            + field[2]
            + " in the tar, "
            + field[1]
            + " in the toc";
      }
    }
    return null;
  }

  private static Map<ByteString, ByteString> xattrRecords(TocEntry entry) {
    Map<ByteString, ByteString> records = new TreeMap<>();
    for (PaxRecord record : entry.paxRecords()) {
      if (record.key().startsWith(XATTR_RECORD_PREFIX)) {
        records.put(record.key(), record.value());
      }
    }
    return records;
  }

  /**
   * The header region followed by endless zeros: the tar reader skips the entry's data, which
   * costs nothing here, then reads two zero blocks and ends the archive.
   */
  private static final class HeaderThenZeros extends InputStream implements ExactlySkippable {
    private final byte[] header;
    private long position;

    HeaderThenZeros(byte[] header) {
      this.header = header;
    }

    @Override
    public int read() {
      return position < header.length ? header[(int) position++] & 0xFF : 0;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) {
      if (length == 0) {
        return 0;
      }
      if (position < header.length) {
        int count = (int) Math.min(length, header.length - position);
        System.arraycopy(header, (int) position, buffer, offset, count);
        position += count;
        return count;
      }
      Arrays.fill(buffer, offset, offset + length, (byte) 0);
      return length;
    }

    @Override
    public long skip(long count) {
      if (count <= 0) {
        return 0;
      }
      position = count > Long.MAX_VALUE - position ? Long.MAX_VALUE : position + count;
      return count;
    }
  }
}
