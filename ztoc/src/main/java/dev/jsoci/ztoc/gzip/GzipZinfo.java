package dev.jsoci.ztoc.gzip;

import dev.jsoci.ztoc.CompressionAlgorithm;
import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.ZtocFormatException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The span layout of a gzip layer, decoded from or encoded to the zTOC's {@code checkpoints} blob.
 *
 * <h2>Blob layout</h2>
 *
 * <p>Integers are little-endian and tightly packed:
 *
 * <ul>
 *   <li>int32 {@code N}: the number of checkpoints, one per span;
 *   <li>int64 span size in uncompressed bytes, informational;
 *   <li>{@code N} records (current layout) or {@code N - 1} records (legacy layout, whose first
 *       checkpoint is implied as {@code in = 10, out = 0, bits = 0} with a zero window), each 32785
 *       bytes: int64 {@code in}, int64 {@code out}, uint8 {@code bits}, and the 32768-byte window.
 * </ul>
 *
 * <p>The blob length alone determines the layout. A parsed legacy blob is written back in the
 * legacy layout, so a zTOC re-encoded from it keeps its digest; {@link #of} always writes the
 * current layout.
 *
 * <h2>Spans</h2>
 *
 * <p>With checkpoints {@code 0..M}: span {@code i} covers uncompressed {@code [out_i, out_{i+1})}
 * and compressed {@code [in_i - (bits_i > 0 ? 1 : 0), in_{i+1})}; the last span ends at the archive
 * sizes. Consecutive compressed ranges overlap by one byte when a checkpoint starts inside a byte.
 * The uncompressed end of the last span may lie before its start, because the archive size ends at
 * the tar end-of-archive marker while a checkpoint can fall in the padding after it. No file lies
 * in such a span.
 *
 * <p>Immutable and thread-safe.
 */
public final class GzipZinfo implements Zinfo {
  static final int HEADER_SIZE = 12;
  static final int RECORD_SIZE = 8 + 8 + 1 + GzipCheckpoint.WINDOW_SIZE;
  private static final int WINDOW_FIELD_OFFSET = 17;

  /** {@code in} of the checkpoint that legacy blobs leave out: the end of a 10-byte header. */
  private static final long LEGACY_FIRST_COMPRESSED_OFFSET = 10;

  private static final byte[] ZERO_WINDOW = new byte[GzipCheckpoint.WINDOW_SIZE];

  private final byte[] blob;
  private final boolean legacyLayout;
  private final long spanSize;
  private final long[] compressedOffsets;
  private final long[] uncompressedOffsets;
  private final byte[] bits;
  private final long compressedArchiveSize;
  private final long uncompressedArchiveSize;

  private GzipZinfo(
      byte[] blob,
      boolean legacyLayout,
      long spanSize,
      long[] compressedOffsets,
      long[] uncompressedOffsets,
      byte[] bits,
      long compressedArchiveSize,
      long uncompressedArchiveSize) {
    this.blob = blob;
    this.legacyLayout = legacyLayout;
    this.spanSize = spanSize;
    this.compressedOffsets = compressedOffsets;
    this.uncompressedOffsets = uncompressedOffsets;
    this.bits = bits;
    this.compressedArchiveSize = compressedArchiveSize;
    this.uncompressedArchiveSize = uncompressedArchiveSize;
  }

  /**
   * Decodes a checkpoint blob in the current or the legacy layout.
   *
   * @param blob the zTOC's {@code checkpoints} bytes; copied
   * @param compressedArchiveSize the zTOC's {@code compressed_archive_size}: the blob size of the
   *     layer
   * @param uncompressedArchiveSize the zTOC's {@code uncompressed_archive_size}
   * @throws ZtocFormatException if the length does not match the checkpoint count, a field is out
   *     of range, or span offsets do not increase
   */
  public static GzipZinfo parse(
      byte[] blob, long compressedArchiveSize, long uncompressedArchiveSize)
      throws ZtocFormatException {
    return parseShared(blob.clone(), compressedArchiveSize, uncompressedArchiveSize);
  }

  /**
   * Decodes a checkpoint blob as {@link #parse} does, but keeps {@code blob} itself: the caller
   * must never modify it afterwards. For zTOCs, whose blob stores 32 KiB per span.
   *
   * @throws ZtocFormatException as {@link #parse} does
   */
  public static GzipZinfo parseShared(
      byte[] blob, long compressedArchiveSize, long uncompressedArchiveSize)
      throws ZtocFormatException {
    // Check the length against the claimed count before allocating anything per checkpoint.
    if (blob.length < HEADER_SIZE) {
      throw new ZtocFormatException(
          "checkpoint blob is " + blob.length + " bytes, shorter than its 12-byte header");
    }
    ByteBuffer buffer = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
    int count = buffer.getInt(0);
    long spanSize = buffer.getLong(4);
    long recordBytes = blob.length - HEADER_SIZE;
    long storedRecords = recordBytes / RECORD_SIZE;
    boolean legacyLayout;
    if (recordBytes % RECORD_SIZE == 0 && count == storedRecords) {
      legacyLayout = false;
    } else if (recordBytes % RECORD_SIZE == 0 && count == storedRecords + 1) {
      legacyLayout = true;
    } else {
      throw new ZtocFormatException(
          "checkpoint blob is "
              + blob.length
              + " bytes but claims "
              + count
              + " checkpoints, which take "
              + (HEADER_SIZE + (long) count * RECORD_SIZE)
              + " bytes ("
              + (HEADER_SIZE + ((long) count - 1) * RECORD_SIZE)
              + " in the legacy layout)");
    }

    // Decode the records; the legacy layout implies the first one.
    long[] compressedOffsets = new long[count];
    long[] uncompressedOffsets = new long[count];
    byte[] bits = new byte[count];
    int first = 0;
    if (legacyLayout) {
      compressedOffsets[0] = LEGACY_FIRST_COMPRESSED_OFFSET;
      first = 1;
    }
    for (int i = first; i < count; i++) {
      int record = HEADER_SIZE + (i - first) * RECORD_SIZE;
      compressedOffsets[i] = buffer.getLong(record);
      uncompressedOffsets[i] = buffer.getLong(record + 8);
      bits[i] = blob[record + 16];
    }

    String problem =
        validate(
            compressedOffsets,
            uncompressedOffsets,
            bits,
            compressedArchiveSize,
            uncompressedArchiveSize);
    if (problem != null) {
      throw new ZtocFormatException(problem);
    }
    return new GzipZinfo(
        blob,
        legacyLayout,
        spanSize,
        compressedOffsets,
        uncompressedOffsets,
        bits,
        compressedArchiveSize,
        uncompressedArchiveSize);
  }

  /**
   * Returns the layout of checkpoints found in a layer, written in the current blob layout.
   *
   * @param checkpoints the checkpoints in stream order
   * @param spanSize the span size they were chosen with, stored for information
   * @param compressedArchiveSize the layer blob's size in bytes
   * @param uncompressedArchiveSize the offset just after the tar end-of-archive marker
   * @throws IllegalArgumentException if a size is negative, a checkpoint lies past the blob end, or
   *     span offsets do not increase
   */
  public static GzipZinfo of(
      List<GzipCheckpoint> checkpoints,
      long spanSize,
      long compressedArchiveSize,
      long uncompressedArchiveSize) {
    if (spanSize < 0) {
      throw new IllegalArgumentException("spanSize is " + spanSize + ", expected >= 0");
    }
    int count = checkpoints.size();
    if (count > (Integer.MAX_VALUE - HEADER_SIZE) / RECORD_SIZE) {
      throw new IllegalArgumentException(
          count + " checkpoints do not fit in a blob of at most 2 GiB; use a larger span size");
    }

    long[] compressedOffsets = new long[count];
    long[] uncompressedOffsets = new long[count];
    byte[] bits = new byte[count];
    ByteBuffer buffer =
        ByteBuffer.allocate(HEADER_SIZE + count * RECORD_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    buffer.putInt(count).putLong(spanSize);
    for (int i = 0; i < count; i++) {
      GzipCheckpoint checkpoint = checkpoints.get(i);
      compressedOffsets[i] = checkpoint.compressedOffset();
      uncompressedOffsets[i] = checkpoint.uncompressedOffset();
      bits[i] = (byte) checkpoint.bits();
      buffer
          .putLong(checkpoint.compressedOffset())
          .putLong(checkpoint.uncompressedOffset())
          .put((byte) checkpoint.bits())
          .put(checkpoint.windowWithoutCopy());
    }

    String problem =
        validate(
            compressedOffsets,
            uncompressedOffsets,
            bits,
            compressedArchiveSize,
            uncompressedArchiveSize);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    return new GzipZinfo(
        buffer.array(),
        false,
        spanSize,
        compressedOffsets,
        uncompressedOffsets,
        bits,
        compressedArchiveSize,
        uncompressedArchiveSize);
  }

  /** Returns what is wrong with the decoded fields, or null when they form a usable layout. */
  private static @Nullable String validate(
      long[] compressedOffsets,
      long[] uncompressedOffsets,
      byte[] bits,
      long compressedArchiveSize,
      long uncompressedArchiveSize) {
    if (compressedArchiveSize < 0) {
      return "compressed archive size is " + compressedArchiveSize + ", expected >= 0";
    }
    if (uncompressedArchiveSize < 0) {
      return "uncompressed archive size is " + uncompressedArchiveSize + ", expected >= 0";
    }
    for (int i = 0; i < compressedOffsets.length; i++) {
      long in = compressedOffsets[i];
      if (bits[i] < 0 || bits[i] > 7) {
        return "checkpoint " + i + " has bits " + (bits[i] & 0xff) + ", expected 0 to 7";
      }
      if (in < (bits[i] > 0 ? 1 : 0) || in > compressedArchiveSize) {
        return "checkpoint "
            + i
            + " has compressed offset "
            + in
            + ", outside the blob of "
            + compressedArchiveSize
            + " bytes";
      }
      if (uncompressedOffsets[i] < 0) {
        return "checkpoint " + i + " has uncompressed offset " + uncompressedOffsets[i];
      }
    }

    // Every span but the last must be non-empty in both coordinate spaces (the last one may have
    // a negative uncompressed length, see the class comment).
    for (int i = 0; i + 1 < compressedOffsets.length; i++) {
      long compressedStart = compressedOffsets[i] - (bits[i] > 0 ? 1 : 0);
      long compressedEnd = compressedOffsets[i + 1];
      long uncompressedStart = uncompressedOffsets[i];
      long uncompressedEnd = uncompressedOffsets[i + 1];
      if (compressedStart >= compressedEnd || uncompressedStart >= uncompressedEnd) {
        return "span offsets are non-monotonic at span "
            + i
            + ": compressed ["
            + compressedStart
            + ", "
            + compressedEnd
            + "), uncompressed ["
            + uncompressedStart
            + ", "
            + uncompressedEnd
            + ")";
      }
    }
    return null;
  }

  @Override
  public CompressionAlgorithm algorithm() {
    return CompressionAlgorithm.GZIP;
  }

  /** Returns the span size stored in the blob; it only informs and may be any value. */
  @Override
  public long spanSize() {
    return spanSize;
  }

  @Override
  public int maxSpanId() {
    return compressedOffsets.length - 1;
  }

  /** Returns the layer blob's size in bytes, the compressed end of the last span. */
  public long compressedArchiveSize() {
    return compressedArchiveSize;
  }

  /** Returns the tar archive size, the uncompressed end of the last span. */
  public long uncompressedArchiveSize() {
    return uncompressedArchiveSize;
  }

  @Override
  public Span span(int id) {
    checkSpanId(id);
    return new Span(
        id, compressedStart(id), compressedEnd(id), uncompressedStart(id), uncompressedEnd(id));
  }

  /**
   * Returns checkpoint {@code id}, where span {@code id} starts.
   *
   * @throws IndexOutOfBoundsException unless {@code 0 <= id <= maxSpanId()}
   */
  public GzipCheckpoint checkpoint(int id) {
    checkSpanId(id);
    return GzipCheckpoint.ofOwnedWindow(
        compressedOffsets[id], uncompressedOffsets[id], bits[id], copyWindow(id));
  }

  /** Returns all checkpoints in span order, each with a copy of its window. */
  public List<GzipCheckpoint> checkpoints() {
    List<GzipCheckpoint> result = new ArrayList<>(compressedOffsets.length);
    for (int id = 0; id < compressedOffsets.length; id++) {
      result.add(checkpoint(id));
    }
    return List.copyOf(result);
  }

  @Override
  public int spanOf(long uncompressedOffset) {
    // Offsets strictly increase (checked when decoding), so binary search finds the same span
    // as a scan from span 0.
    int low = 0;
    int high = uncompressedOffsets.length - 1;
    int found = 0;
    while (low <= high) {
      int middle = (low + high) >>> 1;
      if (uncompressedOffsets[middle] <= uncompressedOffset) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    return found;
  }

  /**
   * Returns a copy of the blob: the parsed bytes as given, or the current layout for a layout built
   * by {@link #of}.
   */
  @Override
  public byte[] toBytes() {
    return blob.clone();
  }

  /** Tells whether the blob omits the first checkpoint, as early SOCI releases wrote it. */
  boolean isLegacyLayout() {
    return legacyLayout;
  }

  /**
   * Decompresses {@code [uncompressedOffset, uncompressedOffset + length)}, inflating from the
   * checkpoint of {@code firstSpan} across any gzip member boundaries in the range. Does not check
   * the trailer of the member the checkpoint lies in; checks those of later members whose end the
   * range reaches. Safe to call from many threads at once.
   *
   * @param compressed the layer bytes from {@code span(firstSpan).compressedStart()}, at least up
   *     to the compressed end of {@code spanOf(uncompressedOffset + length - 1)}; extra bytes after
   *     that are allowed
   * @param firstSpan the span that contains {@code uncompressedOffset}
   * @param uncompressedOffset the first byte of the range, an offset in the tar stream
   * @param destination receives the bytes at its start
   * @param length the number of bytes to write; 0 writes nothing and does not read {@code
   *     compressed}
   * @throws IllegalArgumentException if {@code length} is negative or longer than {@code
   *     destination}, {@code firstSpan} is not a span id, the offset is not in {@code firstSpan},
   *     or {@code compressed} is too short
   * @throws ZtocFormatException if the data is corrupt or ends before the range does
   */
  @Override
  public void decompress(
      byte[] compressed, int firstSpan, long uncompressedOffset, byte[] destination, int length)
      throws ZtocFormatException {
    if (length < 0 || length > destination.length) {
      throw new IllegalArgumentException(
          "length is " + length + ", expected 0 to the destination's " + destination.length);
    }
    if (length == 0) {
      return;
    }
    if (firstSpan < 0 || firstSpan > maxSpanId()) {
      throw new IllegalArgumentException(
          "firstSpan is " + firstSpan + ", expected 0 to " + maxSpanId());
    }
    long spanStart = uncompressedStart(firstSpan);
    boolean beforeNextSpan =
        firstSpan == maxSpanId() || uncompressedOffset < uncompressedOffsets[firstSpan + 1];
    if (uncompressedOffset < spanStart || !beforeNextSpan) {
      throw new IllegalArgumentException(
          "uncompressedOffset "
              + uncompressedOffset
              + " is not in span "
              + firstSpan
              + ", which starts at "
              + spanStart);
    }
    if (uncompressedOffset > Long.MAX_VALUE - length) {
      throw new IllegalArgumentException(
          "uncompressedOffset " + uncompressedOffset + " plus length " + length + " overflows");
    }
    int lastSpan = spanOf(uncompressedOffset + length - 1);
    long needed = compressedEnd(lastSpan) - compressedStart(firstSpan);
    if (compressed.length < needed) {
      throw new IllegalArgumentException(
          "compressed is "
              + compressed.length
              + " bytes, expected at least "
              + needed
              + " for spans "
              + firstSpan
              + " to "
              + lastSpan);
    }

    int windowOffset = windowOffset(firstSpan);
    byte[] window = windowOffset < 0 ? ZERO_WINDOW : blob;
    if (firstSpan == lastSpan && firstSpan < maxSpanId()) {
      // A range that reaches the end of its span, as a whole span does, goes to libdeflate first.
      long spanLength = uncompressedStart(firstSpan + 1) - spanStart;
      long skip = uncompressedOffset - spanStart;
      if (skip + length == spanLength
          && spanLength <= Integer.MAX_VALUE
          && WholeSpanInflater.inflate(
              compressed,
              bits[firstSpan],
              window,
              Math.max(windowOffset, 0),
              endBit(firstSpan),
              (int) spanLength,
              (int) skip,
              destination,
              length)) {
        return;
      }
    }
    new CheckpointInflater(compressed, compressedStart(firstSpan), firstSpan)
        .inflate(
            bits[firstSpan],
            window,
            Math.max(windowOffset, 0),
            uncompressedOffset - spanStart,
            uncompressedOffset,
            destination,
            length);
  }

  private long compressedStart(int id) {
    return compressedOffsets[id] - (bits[id] > 0 ? 1 : 0);
  }

  private long compressedEnd(int id) {
    return id == maxSpanId() ? compressedArchiveSize : compressedOffsets[id + 1];
  }

  private long uncompressedStart(int id) {
    return uncompressedOffsets[id];
  }

  private long uncompressedEnd(int id) {
    return id == maxSpanId() ? uncompressedArchiveSize : uncompressedOffsets[id + 1];
  }

  /** Returns the index of checkpoint {@code id}'s window in the blob, or -1 for the zero window. */
  /** Returns the checkpoint's unused bits of the span's first compressed byte, 0 to 7. */
  int bits(int id) {
    return bits[id];
  }

  /**
   * Returns where span {@code id}, not the last, ends: the bit at which the next checkpoint starts,
   * counted from bit 0 of the span's first compressed byte in deflate's LSB-first order.
   */
  long endBit(int id) {
    return compressedOffsets[id + 1] * 8 - bits[id + 1] - compressedStart(id) * 8;
  }

  /**
   * Returns the offset of the checkpoint's window in {@link #toBytes()}, or -1 for the first
   * checkpoint of a legacy blob, whose window is zeros.
   */
  int windowOffset(int id) {
    if (legacyLayout) {
      return id == 0 ? -1 : HEADER_SIZE + (id - 1) * RECORD_SIZE + WINDOW_FIELD_OFFSET;
    }
    return HEADER_SIZE + id * RECORD_SIZE + WINDOW_FIELD_OFFSET;
  }

  private byte[] copyWindow(int id) {
    int offset = windowOffset(id);
    return offset < 0
        ? new byte[GzipCheckpoint.WINDOW_SIZE]
        : Arrays.copyOfRange(blob, offset, offset + GzipCheckpoint.WINDOW_SIZE);
  }

  private void checkSpanId(int id) {
    if (id < 0 || id > maxSpanId()) {
      throw new IndexOutOfBoundsException("span " + id + " is not in 0 to " + maxSpanId());
    }
  }

  @Override
  public String toString() {
    return "GzipZinfo{spans="
        + compressedOffsets.length
        + ", spanSize="
        + spanSize
        + (legacyLayout ? ", legacy layout" : "")
        + "}";
  }
}
