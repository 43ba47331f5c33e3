package dev.jsoci.ztoc;

import com.google.flatbuffers.FlatBufferBuilder;
import dev.jsoci.ztoc.internal.fbs.FlatBufferException;
import dev.jsoci.ztoc.internal.fbs.FlatTable;
import java.util.Objects;

/**
 * The span layout of an uncompressed (plain tar) layer: fixed-size spans whose compressed and
 * uncompressed ranges are the same bytes.
 *
 * <p>Stored in the zTOC's {@code checkpoints} field as a nested flatbuffer of root type
 * {@code TarZinfo}, without identifier: version [slot 0] int32, always 2; span_size [1] int64;
 * size [2] int64, the tar blob size. With span size S and blob size Z, spans are {@code 0 … M}
 * where {@code M = Z / S - (Z % S == 0 ? 1 : 0)}; span i covers {@code [i·S, (i+1)·S)}, and the
 * last one ends at the blob size (compressed) and at the archive size (uncompressed). Because the
 * archive size excludes the tar record padding, the last span's uncompressed end may lie before
 * its start; no file lies in such a span.
 */
public final class TarZinfo implements Zinfo {
  static final int VERSION = 2;

  private static final int SLOT_VERSION = 0;
  private static final int SLOT_SPAN_SIZE = 1;
  private static final int SLOT_SIZE = 2;

  private final long spanSize;
  private final long blobSize;
  private final long uncompressedArchiveSize;
  private final int maxSpanId;

  private TarZinfo(long spanSize, long blobSize, long uncompressedArchiveSize) {
    this.spanSize = spanSize;
    this.blobSize = blobSize;
    this.uncompressedArchiveSize = uncompressedArchiveSize;
    long spans = blobSize / spanSize + (blobSize % spanSize == 0 ? 0 : 1);
    if (spans > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "span size " + spanSize + " gives too many spans for " + blobSize + " bytes");
    }
    this.maxSpanId = (int) spans - 1;
  }

  /**
   * Returns the layout of a tar blob of {@code blobSize} bytes cut into spans of {@code spanSize}.
   *
   * @throws IllegalArgumentException if {@code spanSize} is not positive or {@code blobSize} is
   *     negative
   */
  public static TarZinfo of(long spanSize, long blobSize, long uncompressedArchiveSize) {
    if (spanSize <= 0) {
      throw new IllegalArgumentException("spanSize must be positive: " + spanSize);
    }
    if (blobSize < 0) {
      throw new IllegalArgumentException("blobSize must not be negative: " + blobSize);
    }
    return new TarZinfo(spanSize, blobSize, uncompressedArchiveSize);
  }

  /**
   * Decodes a {@code TarZinfo} blob.
   *
   * @throws ZtocFormatException if the blob is not a version 2 TarZinfo, its span size is not
   *     positive, or its size differs from {@code compressedArchiveSize}
   */
  public static TarZinfo parse(byte[] blob, long compressedArchiveSize, long uncompressedArchiveSize)
      throws ZtocFormatException {
    FlatTable table;
    int version;
    long spanSize;
    long size;
    try {
      table = FlatTable.root(blob);
      version = table.getInt(SLOT_VERSION, 0);
      spanSize = table.getLong(SLOT_SPAN_SIZE, 0);
      size = table.getLong(SLOT_SIZE, 0);
    } catch (FlatBufferException | IndexOutOfBoundsException e) {
      throw new ZtocFormatException("invalid tar zinfo: " + e.getMessage(), e);
    }
    if (version != VERSION) {
      throw new ZtocFormatException("unsupported tar zinfo version " + version + ", expected 2");
    }
    if (spanSize <= 0) {
      throw new ZtocFormatException("invalid tar zinfo span size " + spanSize);
    }
    if (size != compressedArchiveSize) {
      throw new ZtocFormatException(
          "tar zinfo size " + size + " differs from compressed archive size " + compressedArchiveSize);
    }
    if (size / spanSize + 1 > Integer.MAX_VALUE) {
      throw new ZtocFormatException("tar zinfo span size " + spanSize + " gives too many spans");
    }
    return new TarZinfo(spanSize, size, uncompressedArchiveSize);
  }

  @Override
  public CompressionAlgorithm algorithm() {
    return CompressionAlgorithm.UNCOMPRESSED;
  }

  @Override
  public long spanSize() {
    return spanSize;
  }

  @Override
  public int maxSpanId() {
    return maxSpanId;
  }

  @Override
  public Span span(int id) {
    Objects.checkIndex(id, maxSpanId + 1);
    long start = id * spanSize;
    if (id == maxSpanId) {
      return new Span(id, start, blobSize, start, uncompressedArchiveSize);
    }
    return new Span(id, start, start + spanSize, start, start + spanSize);
  }

  @Override
  public int spanOf(long uncompressedOffset) {
    if (uncompressedOffset <= 0) {
      return 0;
    }
    return (int) Math.min(uncompressedOffset / spanSize, Math.max(maxSpanId, 0));
  }

  @Override
  public byte[] toBytes() {
    FlatBufferBuilder builder = new FlatBufferBuilder(64);
    builder.startTable(3);
    builder.addInt(SLOT_VERSION, VERSION, 0);
    builder.addLong(SLOT_SPAN_SIZE, spanSize, 0L);
    builder.addLong(SLOT_SIZE, blobSize, 0L);
    builder.finish(builder.endTable());
    return builder.sizedByteArray();
  }

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
    Span span = span(firstSpan);
    long start = uncompressedOffset - span.compressedStart();
    if (start < 0 || start + length > compressed.length) {
      throw new ZtocFormatException(
          "range ["
              + uncompressedOffset
              + ", "
              + (uncompressedOffset + length)
              + ") is not within the "
              + compressed.length
              + " bytes given from span "
              + firstSpan);
    }
    System.arraycopy(compressed, (int) start, destination, 0, length);
  }
}
