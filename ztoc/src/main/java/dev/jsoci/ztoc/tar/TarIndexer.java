package dev.jsoci.ztoc.tar;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.LayerFormatException;
import dev.jsoci.ztoc.PaxRecord;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.UnsupportedLayerException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Builds the TOC entries of a tar stream as the reference SOCI builder does: it runs Go's {@code
 * archive/tar} reader and records each header it returns with the stream position after that
 * header.
 *
 * <p>The rules of Go's reader that shape the TOC:
 *
 * <ul>
 *   <li>A pax {@code x} header applies its records to the next entry; of several {@code x} headers
 *       only the last counts. GNU {@code L} and {@code K} headers replace the name and link name of
 *       the next entry, after the pax {@code path} and {@code linkpath}. None of them is an entry,
 *       and their contents are limited to 1 MiB each.
 *   <li>The data of link, symlink, device, directory and fifo entries is not consumed even when
 *       their header declares a size, but the TOC still records that size.
 *   <li>Two zero blocks end the archive, and so does the end of the stream at a block boundary,
 *       after one zero block or inside the padding that follows an entry's data. A zero block
 *       followed by any other block is an error, and so is the end of the stream inside a header or
 *       inside data. An empty stream is an empty archive.
 *   <li>A pax global header ({@code g}) is skipped, as containerd skips it when it unpacks a layer;
 *       AWS's soci fails the build instead. Any type other than regular file, link, symlink,
 *       character or block device, directory and fifo fails the build. Sparse files fail it too: Go
 *       reads them, but the TOC it gives for them is wrong.
 * </ul>
 *
 * <p>Instances are single-use and not thread-safe; {@link #index} creates one per call.
 */
public final class TarIndexer {
  /** Maximum size of an {@code x}, {@code L} or {@code K} header's contents, as in Go. */
  static final int MAX_META_HEADER_SIZE = 1 << 20;

  private static final ByteString SLASH = ByteString.utf8("/");

  private final TarInput input;
  private final String layer;
  private final byte[] block = new byte[TarHeader.BLOCK_SIZE];

  /** Data bytes of the previous entry that are still to be skipped. */
  private long pendingData;

  /** Padding after the previous entry's data that is still to be skipped. */
  private int pendingPadding;

  /** Name of the entry whose data is pending, for messages. */
  private ByteString pendingName = ByteString.EMPTY;

  private TarIndexer(InputStream tar, String layer) {
    this.input = new TarInput(tar);
    this.layer = layer;
  }

  /**
   * Reads a tar stream up to its end-of-archive marker and returns its TOC entries.
   *
   * <p>Reads no byte after the marker: the caller drains or closes the stream. Blocks while the
   * stream blocks. Memory use is bounded by the entries and one 1 MiB meta header, whatever the
   * sizes declared in the headers.
   *
   * @param tar the uncompressed tar stream, positioned at its first header
   * @param layer the layer's name for error messages, such as its digest
   * @throws UnsupportedLayerException if the archive contains a sparse file
   * @throws LayerFormatException if the stream is not a tar archive, is truncated or corrupt, or
   *     contains an entry type the TOC cannot hold. The exception names the offset.
   * @throws IOException if reading the stream fails
   */
  public static TarIndex index(InputStream tar, String layer) throws IOException {
    TarIndexer indexer = new TarIndexer(tar, layer);
    List<TocEntry> entries = new ArrayList<>();
    for (TocEntry entry = indexer.next(); entry != null; entry = indexer.next()) {
      entries.add(entry);
    }
    return new TarIndex(entries, indexer.input.position());
  }

  /** Returns the next entry, or null at the end of the archive. */
  private @Nullable TocEntry next() throws IOException {
    TreeMap<ByteString, ByteString> paxRecords = new TreeMap<>();
    ByteString longName = ByteString.EMPTY;
    ByteString longLinkname = ByteString.EMPTY;
    while (true) {
      if (!skipPendingData()) {
        return null;
      }
      long headerOffset = input.position();
      if (!readHeaderBlock()) {
        return null;
      }
      TarHeader header = TarHeader.parse(block, headerOffset, layer);
      if (header.size < 0 && !isHeaderOnly(header.typeflag)) {
        throw negativeSize(headerOffset, header);
      }

      switch (header.typeflag) {
        case 'x':
          byte[] payload = readMetaHeader(header, headerOffset, "PAX extended header");
          long payloadOffset = headerOffset + TarHeader.BLOCK_SIZE;
          paxRecords = PaxRecords.parse(payload, payloadOffset, layer);
          continue;
        case 'L':
          longName = cString(readMetaHeader(header, headerOffset, "GNU long name"));
          continue;
        case 'K':
          longLinkname = cString(readMetaHeader(header, headerOffset, "GNU long link name"));
          continue;
        case 'g':
          // containerd ignores pax global headers, and so do its unpacked layers; git archive
          // writes one with the commit id. The TOC of AWS's soci has no such layer: it fails.
          readMetaHeader(header, headerOffset, "PAX global header");
          continue;
        default:
          return toEntry(header, headerOffset, paxRecords, longName, longLinkname);
      }
    }
  }

  private TocEntry toEntry(
      TarHeader header,
      long headerOffset,
      Map<ByteString, ByteString> paxRecords,
      ByteString longName,
      ByteString longLinkname)
      throws LayerFormatException {
    // Step 1: overrides in Go's order: pax records, then GNU long names.
    PaxRecords.applyTo(header, paxRecords, headerOffset, layer);
    if (!longName.isEmpty()) {
      header.name = longName;
    }
    if (!longLinkname.isEmpty()) {
      header.linkname = longLinkname;
    }

    // Step 2: the type. A V7 regular file ('\0') whose name ends in '/' is a directory.
    byte typeflag = header.typeflag;
    if (typeflag == 0) {
      typeflag = header.name.endsWith(SLASH) ? (byte) '5' : (byte) '0';
    }
    if (header.size < 0 && !isHeaderOnly(typeflag)) {
      throw negativeSize(headerOffset, header);
    }
    if (typeflag == 'S') {
      throw sparseFile(headerOffset, header, "GNU old sparse format");
    }
    if (PaxRecords.describesSparseFile(paxRecords)) {
      ByteString realName = paxRecords.get(PaxRecords.GNU_SPARSE_NAME);
      if (realName != null && !realName.isEmpty()) {
        header.name = realName;
      }
      throw sparseFile(headerOffset, header, "GNU sparse PAX records");
    }
    EntryType type = entryType(typeflag);
    if (type == null) {
      throw unsupportedType(headerOffset, header);
    }

    // Step 3: the data that the next call skips. Header-only types consume none.
    pendingData = isHeaderOnly(typeflag) ? 0 : header.size;
    pendingPadding = padding(pendingData);
    pendingName = header.name;

    List<PaxRecord> records = new ArrayList<>(paxRecords.size());
    for (Map.Entry<ByteString, ByteString> record : paxRecords.entrySet()) {
      records.add(new PaxRecord(record.getKey(), record.getValue()));
    }
    return new TocEntry(
        header.name,
        type,
        input.position(),
        header.size,
        header.linkname,
        header.mode,
        header.uid & 0xFFFF_FFFFL,
        header.gid & 0xFFFF_FFFFL,
        header.uname,
        header.gname,
        header.modTime.toRfc3339(),
        header.devmajor,
        header.devminor,
        records);
  }

  /**
   * Skips the rest of the previous entry's data and its padding.
   *
   * @return false if the stream ended inside the padding, which Go reads as the end of the archive
   */
  private boolean skipPendingData() throws IOException {
    if (pendingData > 0) {
      long skipped = input.skip(pendingData);
      if (skipped < pendingData) {
        throw new LayerFormatException(
            layer,
            input.position(),
            "unexpected end of stream inside the data of "
                + ByteText.quote(pendingName)
                + ": "
                + (pendingData - skipped)
                + " of its bytes are missing");
      }
      pendingData = 0;
    }
    int padding = pendingPadding;
    pendingPadding = 0;
    return input.skip(padding) == padding;
  }

  /**
   * Reads the next header block, handling the end-of-archive marker.
   *
   * @return false at the end of the archive
   */
  private boolean readHeaderBlock() throws IOException {
    long offset = input.position();
    if (!readBlock()) {
      return false;
    }
    if (!TarHeader.isZeroBlock(block)) {
      return true;
    }
    if (!readBlock() || TarHeader.isZeroBlock(block)) {
      return false;
    }
    throw new LayerFormatException(
        layer,
        offset + TarHeader.BLOCK_SIZE,
        "invalid end-of-archive marker: a zero block is followed by a non-zero block");
  }

  /** Reads one block; returns false if the stream ends before its first byte. */
  private boolean readBlock() throws IOException {
    long offset = input.position();
    int n = input.read(block, 0, block.length);
    if (n == 0) {
      return false;
    }
    if (n < block.length) {
      throw new LayerFormatException(
          layer,
          input.position(),
          "unexpected end of stream inside the tar header at byte "
              + offset
              + ": "
              + n
              + " of 512 bytes read");
    }
    return true;
  }

  /**
   * Reads the contents of an {@code x}, {@code L} or {@code K} header and leaves its padding for
   * the next {@link #skipPendingData}.
   */
  private byte[] readMetaHeader(TarHeader header, long headerOffset, String kind)
      throws IOException {
    if (header.size > MAX_META_HEADER_SIZE) {
      // The header itself is valid tar, so the layer is reported as unsupported, not as garbage.
      throw new UnsupportedLayerException(
          layer,
          headerOffset,
          kind
              + " of "
              + header.size
              + " bytes exceeds the maximum of "
              + MAX_META_HEADER_SIZE
              + " bytes");
    }
    int size = (int) header.size;
    byte[] payload = new byte[size];
    int n = input.read(payload, 0, size);
    if (n < size) {
      throw new LayerFormatException(
          layer,
          input.position(),
          "unexpected end of stream inside the "
              + kind
              + " at byte "
              + headerOffset
              + ": "
              + n
              + " of "
              + size
              + " bytes read");
    }
    pendingPadding = padding(size);
    return payload;
  }

  /** Returns the bytes of a GNU long name up to its first NUL. */
  private static ByteString cString(byte[] payload) {
    int end = 0;
    while (end < payload.length && payload[end] != 0) {
      end++;
    }
    return ByteString.copyOf(payload, 0, end);
  }

  /** Returns whether Go skips no data after this type, whatever size its header declares. */
  private static boolean isHeaderOnly(byte typeflag) {
    return typeflag >= '1' && typeflag <= '6';
  }

  private static int padding(long size) {
    return (int) (-size & (TarHeader.BLOCK_SIZE - 1));
  }

  private static @Nullable EntryType entryType(byte typeflag) {
    switch (typeflag) {
      case '0':
        return EntryType.REGULAR;
      case '1':
        return EntryType.HARDLINK;
      case '2':
        return EntryType.SYMLINK;
      case '3':
        return EntryType.CHAR;
      case '4':
        return EntryType.BLOCK;
      case '5':
        return EntryType.DIRECTORY;
      case '6':
        return EntryType.FIFO;
      default:
        return null;
    }
  }

  private LayerFormatException negativeSize(long offset, TarHeader header) {
    return new LayerFormatException(
        layer,
        offset,
        "invalid tar header: negative size " + header.size + " for " + ByteText.quote(header.name));
  }

  private LayerFormatException unsupportedType(long offset, TarHeader header) {
    return new LayerFormatException(
        layer,
        offset,
        "unsupported tar entry type "
            + ByteText.quoteTypeflag(header.typeflag)
            + describeType(header.typeflag)
            + " for "
            + ByteText.quote(header.name));
  }

  private static String describeType(byte typeflag) {
    switch (typeflag) {
      case 'g':
        return " (PAX global header)";
      case '7':
        return " (contiguous file)";
      case 'D':
        return " (GNU dump directory)";
      case 'M':
        return " (GNU multi-volume continuation)";
      case 'N':
        return " (GNU old long name)";
      case 'V':
        return " (GNU volume header)";
      default:
        return "";
    }
  }

  private UnsupportedLayerException sparseFile(long offset, TarHeader header, String format) {
    return new UnsupportedLayerException(
        layer,
        offset,
        "sparse file "
            + ByteText.quote(header.name)
            + " ("
            + format
            + "): jsoci cannot index or unpack sparse files, so such a layer gets no zTOC and"
            + " jsoci-snapshotter leaves it to containerd; jsoci mount and jsoci image get-file"
            + " cannot read it. Rebuild the layer without sparse files (GNU tar without --sparse)"
            + " to read it with them");
  }
}
