package dev.jsoci.ztoc;

import com.google.flatbuffers.FlatBufferBuilder;
import dev.jsoci.ztoc.internal.fbs.FlatBufferException;
import dev.jsoci.ztoc.internal.fbs.FlatTable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Encodes and decodes zTOCs, the flatbuffers of root type {@code Ztoc}.
 *
 * <p>Schema (field slots in brackets; no file identifier, no size prefix):
 *
 * <ul>
 *   <li>{@code Ztoc}: version [0] string, build_tool_identifier [1] string,
 *       compressed_archive_size [2] int64, uncompressed_archive_size [3] int64, toc [4] TOC,
 *       compression_info [5] CompressionInfo.
 *   <li>{@code TOC}: metadata [0] vector of FileMetadata.
 *   <li>{@code FileMetadata}: name [0], type [1], uncompressed_offset [2] int64,
 *       uncompressed_size [3] int64, linkname [4], mode [5] int64, uid [6] uint32, gid [7]
 *       uint32, uname [8], gname [9], mod_time [10] string, devmajor [11] int64, devminor [12]
 *       int64, xattrs [13] vector of Xattr.
 *   <li>{@code Xattr}: key [0] string, value [1] string (each PAX record of the entry).
 *   <li>{@code CompressionInfo}: compression_algorithm [0] int8 (default 1, gzip), max_span_id
 *       [1] int32, span_digests [2] vector of string, checkpoints [3] vector of ubyte.
 * </ul>
 *
 * <p>Flatbuffer bytes depend on the order of the builder calls. {@link #encode} makes the calls in
 * the order of AWS's soci-snapshotter builder (Go runtime, defaults not forced, vtables shared),
 * so that a zTOC built here has the same bytes and digest as one built by {@code soci}: strings
 * before the table that refers to them, TOC entries from last to first, {@code toc} added to the
 * root table before the two sizes.
 */
public final class ZtocCodec {
  private static final int ZTOC_VERSION = 0;
  private static final int ZTOC_BUILD_TOOL = 1;
  private static final int ZTOC_COMPRESSED_SIZE = 2;
  private static final int ZTOC_UNCOMPRESSED_SIZE = 3;
  private static final int ZTOC_TOC = 4;
  private static final int ZTOC_COMPRESSION_INFO = 5;

  private static final int TOC_METADATA = 0;

  private static final int FILE_NAME = 0;
  private static final int FILE_TYPE = 1;
  private static final int FILE_OFFSET = 2;
  private static final int FILE_SIZE = 3;
  private static final int FILE_LINKNAME = 4;
  private static final int FILE_MODE = 5;
  private static final int FILE_UID = 6;
  private static final int FILE_GID = 7;
  private static final int FILE_UNAME = 8;
  private static final int FILE_GNAME = 9;
  private static final int FILE_MOD_TIME = 10;
  private static final int FILE_DEVMAJOR = 11;
  private static final int FILE_DEVMINOR = 12;
  private static final int FILE_XATTRS = 13;

  private static final int XATTR_KEY = 0;
  private static final int XATTR_VALUE = 1;

  private static final int INFO_ALGORITHM = 0;
  private static final int INFO_MAX_SPAN_ID = 1;
  private static final int INFO_SPAN_DIGESTS = 2;
  private static final int INFO_CHECKPOINTS = 3;

  /**
   * The largest zTOC that readers load into memory. A zTOC stores a 32 KiB window per span, so 256
   * MiB allows about 8000 spans: 32 GiB of layer at the default 4 MiB span size.
   */
  // NOTE: the daemon pulls the layer of a zTOC over this limit in full, and image get-file fails
  // on it. A larger span size keeps the zTOC of a larger layer under the limit.
  public static final long MAX_ZTOC_BYTES = 256L << 20;

  private ZtocCodec() {}

  /**
   * Checks the size that a descriptor gives for a zTOC before the zTOC is read into memory.
   *
   * @param source what the zTOC is, for messages (a digest or a file name)
   * @throws ZtocFormatException if {@code size} is negative or more than {@link #MAX_ZTOC_BYTES}
   */
  public static void checkSize(long size, String source) throws ZtocFormatException {
    if (size < 0) {
      throw new ZtocFormatException(
          "invalid ztoc " + source + ": its descriptor gives a negative size of " + size);
    }
    if (size > MAX_ZTOC_BYTES) {
      throw new ZtocFormatException(
          "invalid ztoc "
              + source
              + ": its descriptor gives a size of "
              + size
              + " bytes, more than the limit of "
              + MAX_ZTOC_BYTES);
    }
  }

  /** Encodes {@code ztoc} into flatbuffer bytes identical to those of the reference builder. */
  public static byte[] encode(Ztoc ztoc) {
    return encode(ztoc, entry -> entry.type().wireName());
  }

  /**
   * Encodes {@code ztoc} with each entry's {@code type} text given by {@code typeName}. Tests use
   * it to write type texts that {@link EntryType} has no value for.
   */
  static byte[] encode(Ztoc ztoc, Function<TocEntry, String> typeName) {
    FlatBufferBuilder builder = new FlatBufferBuilder(1024);

    int version = builder.createString(ztoc.version());
    int buildTool = builder.createString(ztoc.buildToolIdentifier());

    // TOC entries are built from last to first, as the reference does.
    List<TocEntry> entries = ztoc.entries();
    int[] entryOffsets = new int[entries.size()];
    for (int i = entries.size() - 1; i >= 0; i--) {
      entryOffsets[i] = encodeEntry(builder, entries.get(i), typeName.apply(entries.get(i)));
    }
    int metadata = createOffsetVector(builder, entryOffsets);
    builder.startTable(1);
    builder.addOffset(TOC_METADATA, metadata, 0);
    int toc = builder.endTable();

    int checkpoints = builder.createByteVector(ztoc.checkpoints());
    List<String> digests = ztoc.spanDigests();
    int[] digestOffsets = new int[digests.size()];
    for (int i = 0; i < digests.size(); i++) {
      digestOffsets[i] = builder.createString(digests.get(i));
    }
    int spanDigests = createOffsetVector(builder, digestOffsets);
    builder.startTable(4);
    builder.addInt(INFO_MAX_SPAN_ID, ztoc.maxSpanId(), 0);
    builder.addOffset(INFO_SPAN_DIGESTS, spanDigests, 0);
    builder.addOffset(INFO_CHECKPOINTS, checkpoints, 0);
    builder.addByte(INFO_ALGORITHM, ztoc.compressionAlgorithm().wireValue(), (byte) 1);
    int compressionInfo = builder.endTable();

    builder.startTable(6);
    builder.addOffset(ZTOC_VERSION, version, 0);
    builder.addOffset(ZTOC_BUILD_TOOL, buildTool, 0);
    builder.addOffset(ZTOC_TOC, toc, 0);
    builder.addLong(ZTOC_COMPRESSED_SIZE, ztoc.compressedArchiveSize(), 0L);
    builder.addLong(ZTOC_UNCOMPRESSED_SIZE, ztoc.uncompressedArchiveSize(), 0L);
    builder.addOffset(ZTOC_COMPRESSION_INFO, compressionInfo, 0);
    int root = builder.endTable();
    builder.finish(root);
    return builder.sizedByteArray();
  }

  private static int encodeEntry(FlatBufferBuilder builder, TocEntry entry, String typeName) {
    int name = builder.createString(entry.name().asReadOnlyBuffer());
    int type = builder.createString(typeName);
    int linkname = builder.createString(entry.linkname().asReadOnlyBuffer());
    int uname = builder.createString(entry.uname().asReadOnlyBuffer());
    int gname = builder.createString(entry.gname().asReadOnlyBuffer());
    int modTime = builder.createString(entry.modTime());

    // PAX records in byte-wise key order; the key string, the value string, then the table.
    List<PaxRecord> records = new ArrayList<>(entry.paxRecords());
    records.sort(null);
    int[] xattrOffsets = new int[records.size()];
    for (int i = 0; i < records.size(); i++) {
      int key = builder.createString(records.get(i).key().asReadOnlyBuffer());
      int value = builder.createString(records.get(i).value().asReadOnlyBuffer());
      builder.startTable(2);
      builder.addOffset(XATTR_KEY, key, 0);
      builder.addOffset(XATTR_VALUE, value, 0);
      xattrOffsets[i] = builder.endTable();
    }
    int xattrs = createOffsetVector(builder, xattrOffsets);

    builder.startTable(14);
    builder.addOffset(FILE_NAME, name, 0);
    builder.addOffset(FILE_TYPE, type, 0);
    builder.addLong(FILE_OFFSET, entry.uncompressedOffset(), 0L);
    builder.addLong(FILE_SIZE, entry.uncompressedSize(), 0L);
    builder.addOffset(FILE_LINKNAME, linkname, 0);
    builder.addLong(FILE_MODE, entry.mode(), 0L);
    builder.addInt(FILE_UID, (int) entry.uid(), 0);
    builder.addInt(FILE_GID, (int) entry.gid(), 0);
    builder.addOffset(FILE_UNAME, uname, 0);
    builder.addOffset(FILE_GNAME, gname, 0);
    builder.addOffset(FILE_MOD_TIME, modTime, 0);
    builder.addLong(FILE_DEVMAJOR, entry.devmajor(), 0L);
    builder.addLong(FILE_DEVMINOR, entry.devminor(), 0L);
    builder.addOffset(FILE_XATTRS, xattrs, 0);
    return builder.endTable();
  }

  /** Creates a vector of offsets whose stored order is {@code offsets} in ascending index. */
  private static int createOffsetVector(FlatBufferBuilder builder, int[] offsets) {
    builder.startVector(4, offsets.length, 4);
    for (int i = offsets.length - 1; i >= 0; i--) {
      builder.addOffset(offsets[i]);
    }
    return builder.endVector();
  }

  /**
   * Decodes zTOC bytes. The result is checked for structure only; {@link TocIndex#of} checks the
   * entry offsets and {@link Zinfos#of} the span layout.
   *
   * @param source what the bytes are, for messages (a digest or a file name)
   * @throws ZtocFormatException if the bytes are not a zTOC
   */
  public static Ztoc decode(byte[] bytes, String source) throws ZtocFormatException {
    try {
      return decodeUnchecked(bytes);
    } catch (FlatBufferException | IllegalArgumentException | IndexOutOfBoundsException e) {
      throw new ZtocFormatException("invalid ztoc " + source + ": " + e.getMessage(), e);
    }
  }

  private static Ztoc decodeUnchecked(byte[] bytes) {
    FlatTable root = FlatTable.root(bytes);

    FlatTable toc = root.getTable(ZTOC_TOC);
    int entryCount = toc == null ? 0 : toc.vectorLength(TOC_METADATA);
    List<TocEntry> entries = new ArrayList<>(entryCount);
    for (int i = 0; i < entryCount; i++) {
      entries.add(decodeEntry(toc.getTableElement(TOC_METADATA, i), i));
    }

    FlatTable info = root.getTable(ZTOC_COMPRESSION_INFO);
    if (info == null) {
      throw new IllegalArgumentException("missing compression_info");
    }
    byte algorithmValue = info.getByte(INFO_ALGORITHM, (byte) 1);
    CompressionAlgorithm algorithm = algorithmOf(algorithmValue);
    int digestCount = info.vectorLength(INFO_SPAN_DIGESTS);
    List<String> digests = new ArrayList<>(digestCount);
    for (int i = 0; i < digestCount; i++) {
      digests.add(ascii(info.getBytesElement(INFO_SPAN_DIGESTS, i)));
    }
    byte[] checkpoints = info.getBytes(INFO_CHECKPOINTS);

    return new Ztoc(
        text(root.getBytes(ZTOC_VERSION)),
        text(root.getBytes(ZTOC_BUILD_TOOL)),
        root.getLong(ZTOC_COMPRESSED_SIZE, 0),
        root.getLong(ZTOC_UNCOMPRESSED_SIZE, 0),
        entries,
        algorithm,
        info.getInt(INFO_MAX_SPAN_ID, 0),
        digests,
        checkpoints == null ? new byte[0] : checkpoints);
  }

  private static CompressionAlgorithm algorithmOf(byte value) {
    for (CompressionAlgorithm algorithm : CompressionAlgorithm.values()) {
      if (algorithm.wireValue() == value) {
        return algorithm;
      }
    }
    throw new IllegalArgumentException("unknown compression_algorithm " + value);
  }

  private static TocEntry decodeEntry(FlatTable file, int index) {
    String typeName = text(file.getBytes(FILE_TYPE));
    EntryType type;
    try {
      type = EntryType.fromWireName(typeName);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("toc entry " + index + ": " + e.getMessage(), e);
    }
    List<PaxRecord> records = new ArrayList<>(file.vectorLength(FILE_XATTRS));
    for (int i = 0; i < file.vectorLength(FILE_XATTRS); i++) {
      FlatTable xattr = file.getTableElement(FILE_XATTRS, i);
      records.add(new PaxRecord(bytes(xattr.getBytes(XATTR_KEY)), bytes(xattr.getBytes(XATTR_VALUE))));
    }
    return new TocEntry(
        bytes(file.getBytes(FILE_NAME)),
        type,
        file.getLong(FILE_OFFSET, 0),
        file.getLong(FILE_SIZE, 0),
        bytes(file.getBytes(FILE_LINKNAME)),
        file.getLong(FILE_MODE, 0),
        Integer.toUnsignedLong(file.getInt(FILE_UID, 0)),
        Integer.toUnsignedLong(file.getInt(FILE_GID, 0)),
        bytes(file.getBytes(FILE_UNAME)),
        bytes(file.getBytes(FILE_GNAME)),
        text(file.getBytes(FILE_MOD_TIME)),
        file.getLong(FILE_DEVMAJOR, 0),
        file.getLong(FILE_DEVMINOR, 0),
        records);
  }

  private static ByteString bytes(byte[] value) {
    return value == null ? ByteString.EMPTY : ByteString.of(value);
  }

  private static String text(byte[] value) {
    return value == null ? "" : new String(value, StandardCharsets.UTF_8);
  }

  /** Span digests that are not ASCII can never match; they are kept as read and fail later. */
  private static String ascii(byte[] value) {
    return new String(value, StandardCharsets.ISO_8859_1);
  }
}
