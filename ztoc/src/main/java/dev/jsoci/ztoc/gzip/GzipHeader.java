package dev.jsoci.ztoc.gzip;

import java.util.zip.CRC32;

/**
 * Measures gzip member headers (RFC 1952 section 2.3) in place in a byte array.
 *
 * <p>A header is 10 fixed bytes (ID1 ID2 CM FLG MTIME XFL OS), then the optional fields in this
 * order: FEXTRA (2-byte little-endian XLEN and XLEN bytes), FNAME and FCOMMENT (each up to a zero
 * byte), FHCRC (the low 16 bits of the CRC-32 of the header bytes before it).
 */
final class GzipHeader {
  static final int FIXED_LENGTH = 10;

  private static final int FHCRC = 0x02;
  private static final int FEXTRA = 0x04;
  private static final int FNAME = 0x08;
  private static final int FCOMMENT = 0x10;
  private static final int RESERVED_FLAGS = 0xe0;

  /** A header that is invalid or does not fit in the data. */
  static final class InvalidHeaderException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int index;

    InvalidHeaderException(int index, String reason) {
      super(reason, null, false, false);
      this.index = index;
    }

    /** Returns the array index of the byte at fault. */
    int index() {
      return index;
    }
  }

  private GzipHeader() {}

  /**
   * Returns the length of the gzip member header at {@code data[start]}.
   *
   * @param end the index after the last byte that belongs to the data
   * @throws InvalidHeaderException if the magic, method, flags or header CRC are wrong, or the
   *     header extends past {@code end}
   */
  static int length(byte[] data, int start, int end) throws InvalidHeaderException {
    if (end - start < FIXED_LENGTH) {
      throw new InvalidHeaderException(end, "gzip header ends after " + (end - start) + " bytes");
    }
    if ((data[start] & 0xff) != 0x1f || (data[start + 1] & 0xff) != 0x8b) {
      throw new InvalidHeaderException(
          start,
          String.format(
              "gzip magic is %02x %02x, expected 1f 8b",
              data[start] & 0xff, data[start + 1] & 0xff));
    }
    if (data[start + 2] != 8) {
      throw new InvalidHeaderException(
          start + 2,
          "gzip compression method is " + (data[start + 2] & 0xff) + ", expected 8 (deflate)");
    }
    int flags = data[start + 3] & 0xff;
    if ((flags & RESERVED_FLAGS) != 0) {
      throw new InvalidHeaderException(
          start + 3, String.format("reserved gzip header flag bits set: flags %02x", flags));
    }

    int position = start + FIXED_LENGTH;
    if ((flags & FEXTRA) != 0) {
      if (end - position < 2) {
        throw new InvalidHeaderException(end, "gzip header ends inside XLEN");
      }
      int extraLength = (data[position] & 0xff) | (data[position + 1] & 0xff) << 8;
      position += 2;
      if (end - position < extraLength) {
        throw new InvalidHeaderException(end, "gzip header ends inside the extra field");
      }
      position += extraLength;
    }
    if ((flags & FNAME) != 0) {
      position = skipZeroTerminated(data, position, end, "file name");
    }
    if ((flags & FCOMMENT) != 0) {
      position = skipZeroTerminated(data, position, end, "comment");
    }
    if ((flags & FHCRC) != 0) {
      if (end - position < 2) {
        throw new InvalidHeaderException(end, "gzip header ends inside the header crc16");
      }
      CRC32 crc = new CRC32();
      crc.update(data, start, position - start);
      int stored = (data[position] & 0xff) | (data[position + 1] & 0xff) << 8;
      if (stored != (int) (crc.getValue() & 0xffff)) {
        throw new InvalidHeaderException(position, "gzip header crc16 mismatch");
      }
      position += 2;
    }
    return position - start;
  }

  private static int skipZeroTerminated(byte[] data, int position, int end, String field)
      throws InvalidHeaderException {
    for (int i = position; i < end; i++) {
      if (data[i] == 0) {
        return i + 1;
      }
    }
    throw new InvalidHeaderException(end, "gzip header ends inside the " + field);
  }
}
