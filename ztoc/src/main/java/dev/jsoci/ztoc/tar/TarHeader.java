package dev.jsoci.ztoc.tar;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.LayerFormatException;
import java.util.Arrays;

/**
 * The fields of one 512-byte tar header block, parsed as Go's {@code archive/tar} reader parses
 * them; the indexer then overrides some of them from PAX records and GNU long names.
 *
 * <p>Block layout, offsets in bytes. Every format shares the V7 part:
 *
 * <ul>
 *   <li>0, 100: name, NUL-terminated unless it fills the field
 *   <li>100, 8: mode; 108, 8: uid; 116, 8: gid; 124, 12: size; 136, 12: mtime in Unix seconds
 *   <li>148, 8: checksum, the octal sum of all 512 bytes with this field read as spaces
 *   <li>156, 1: type flag; 157, 100: link name
 * </ul>
 *
 * USTAR (POSIX.1-1988, also the base of POSIX.1-2001 pax) adds: 257, 6: magic {@code "ustar\0"};
 * 263, 2: version; 265, 32: user name; 297, 32: group name; 329, 8: device major; 337, 8: device
 * minor; 345, 155: name prefix. The old GNU format has magic {@code "ustar "} and version {@code "
 * \0"}, the same fields up to 345, then 345, 12: atime and 357, 12: ctime in place of the prefix.
 * Schily's star format has USTAR's magic, a 131-byte prefix at 345, atime at 476, ctime at 488 and
 * the trailer {@code "tar\0"} at 508. Any other magic is V7, whose header ends at 257.
 *
 * <p>Numeric fields are octal text with leading and trailing spaces and NULs ignored, or base-256
 * (GNU) when the first byte has bit 0x80: the remaining bits are a big-endian two's complement
 * number whose sign is bit 0x40 of the first byte.
 */
final class TarHeader {
  static final int BLOCK_SIZE = 512;

  private static final byte[] MAGIC_USTAR = {'u', 's', 't', 'a', 'r', 0};
  private static final byte[] MAGIC_GNU = {'u', 's', 't', 'a', 'r', ' '};
  private static final byte[] VERSION_GNU = {' ', 0};
  private static final byte[] TRAILER_STAR = {'t', 'a', 'r', 0};

  private static final int CHECKSUM_OFFSET = 148;
  private static final int CHECKSUM_LENGTH = 8;

  /** The header layouts that Go's reader tells apart by magic, version and trailer. */
  enum Format {
    V7,
    /** POSIX.1-1988 ustar and POSIX.1-2001 pax, which share one header layout. */
    USTAR,
    GNU,
    STAR
  }

  final Format format;
  final byte typeflag;
  ByteString name;
  ByteString linkname;
  long size;
  final long mode;
  long uid;
  long gid;
  ModTime modTime;
  ByteString uname = ByteString.EMPTY;
  ByteString gname = ByteString.EMPTY;
  long devmajor;
  long devminor;

  private TarHeader(byte[] block, Format format) throws InvalidFieldException {
    this.format = format;
    this.typeflag = block[156];
    this.name = cString(block, 0, 100);
    this.linkname = cString(block, 157, 100);
    this.size = numericField(block, 124, 12, "size");
    this.mode = numericField(block, 100, 8, "mode");
    this.uid = numericField(block, 108, 8, "uid");
    this.gid = numericField(block, 116, 8, "gid");
    this.modTime = ModTime.ofSeconds(numericField(block, 136, 12, "mtime"));
  }

  /** Returns whether all 512 bytes of {@code block} are zero, as in the end-of-archive marker. */
  static boolean isZeroBlock(byte[] block) {
    for (byte b : block) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Parses and checks a header block.
   *
   * @param offset the block's offset in the tar stream, for messages
   * @throws LayerFormatException if the checksum does not match or a numeric field is invalid. At
   *     offset 0, a checksum failure reads "not a tar archive".
   */
  static TarHeader parse(byte[] block, long offset, String layer) throws LayerFormatException {
    Format format = detectFormat(block, offset, layer);
    try {
      TarHeader header = new TarHeader(block, format);
      if (format != Format.V7) {
        header.readUstarFields(block);
      }
      return header;
    } catch (InvalidFieldException e) {
      throw new LayerFormatException(layer, offset, "invalid tar header: " + e.getMessage());
    }
  }

  private void readUstarFields(byte[] block) throws InvalidFieldException {
    uname = cString(block, 265, 32);
    gname = cString(block, 297, 32);
    devmajor = numericField(block, 329, 8, "devmajor");
    devminor = numericField(block, 337, 8, "devminor");

    ByteString prefix = ByteString.EMPTY;
    switch (format) {
      case USTAR:
        prefix = cString(block, 345, 155);
        break;
      case STAR:
        prefix = cString(block, 345, 131);
        // Go parses star's atime and ctime and rejects the header when they are invalid.
        numericField(block, 476, 12, "atime");
        numericField(block, 488, 12, "ctime");
        break;
      case GNU:
        // Go releases before 1.8 wrote a ustar prefix into old GNU headers. Go still reads such a
        // prefix when the atime or ctime field contains something that does not parse, and the
        // prefix is ASCII.
        if (!isValidTimeField(block, 345) || !isValidTimeField(block, 357)) {
          ByteString legacyPrefix = cString(block, 345, 155);
          if (isAscii(legacyPrefix)) {
            prefix = legacyPrefix;
          }
        }
        break;
      default:
        throw new AssertionError(format);
    }
    if (!prefix.isEmpty()) {
      name = concat(prefix, name);
    }
  }

  /** Returns whether an old GNU atime or ctime field is unset (first byte NUL) or valid. */
  private static boolean isValidTimeField(byte[] block, int offset) {
    if (block[offset] == 0) {
      return true;
    }
    try {
      parseNumeric(block, offset, 12);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static Format detectFormat(byte[] block, long offset, String layer)
      throws LayerFormatException {
    long stored;
    try {
      stored = parseOctal(block, CHECKSUM_OFFSET, CHECKSUM_LENGTH);
    } catch (NumberFormatException e) {
      throw checksumMismatch(
          offset,
          layer,
          "checksum field "
              + ByteText.quote(block, CHECKSUM_OFFSET, CHECKSUM_LENGTH)
              + " is not an octal number");
    }
    long unsignedSum = 0;
    long signedSum = 0;
    for (int i = 0; i < BLOCK_SIZE; i++) {
      // The sum counts the checksum field itself as eight spaces.
      byte b =
          i >= CHECKSUM_OFFSET && i < CHECKSUM_OFFSET + CHECKSUM_LENGTH ? (byte) ' ' : block[i];
      unsignedSum += b & 0xff;
      signedSum += b;
    }
    // POSIX sums unsigned bytes; old Sun tar summed signed bytes. Go accepts both.
    if (stored != unsignedSum && stored != signedSum) {
      throw checksumMismatch(
          offset, layer, "checksum " + stored + " does not match the computed sum " + unsignedSum);
    }

    if (regionEquals(block, 257, MAGIC_USTAR)) {
      return regionEquals(block, 508, TRAILER_STAR) ? Format.STAR : Format.USTAR;
    }
    if (regionEquals(block, 257, MAGIC_GNU) && regionEquals(block, 263, VERSION_GNU)) {
      return Format.GNU;
    }
    return Format.V7;
  }

  private static LayerFormatException checksumMismatch(long offset, String layer, String detail) {
    String reason = offset == 0 ? "not a tar archive: " + detail : "invalid tar header: " + detail;
    return new LayerFormatException(layer, offset, reason);
  }

  private static boolean regionEquals(byte[] block, int offset, byte[] expected) {
    return Arrays.equals(block, offset, offset + expected.length, expected, 0, expected.length);
  }

  private static long numericField(byte[] block, int offset, int length, String field)
      throws InvalidFieldException {
    try {
      return parseNumeric(block, offset, length);
    } catch (NumberFormatException e) {
      throw new InvalidFieldException(
          field + " field " + ByteText.quote(block, offset, length) + " " + e.getMessage());
    }
  }

  /**
   * Parses a numeric field as base-256 when its first byte has bit 0x80, else as octal text.
   *
   * @throws NumberFormatException if the octal text is invalid or the value needs more than 64
   *     bits. Its message is a phrase to append to the field name.
   */
  static long parseNumeric(byte[] b, int offset, int length) {
    if (length == 0 || (b[offset] & 0x80) == 0) {
      return parseOctal(b, offset, length);
    }

    // Base-256: inverting the bytes of a negative number gives -x - 1, a non-negative value.
    int inversion = (b[offset] & 0x40) != 0 ? 0xff : 0;
    long value = 0;
    for (int i = 0; i < length; i++) {
      int c = (b[offset + i] ^ inversion) & 0xff;
      if (i == 0) {
        c &= 0x7f;
      }
      if ((value >>> 56) != 0) {
        throw new NumberFormatException("overflows 64 bits");
      }
      value = (value << 8) | c;
    }
    if (value < 0) {
      throw new NumberFormatException("overflows 64 bits");
    }
    return inversion == 0 ? value : ~value;
  }

  /**
   * Parses octal text after trimming leading and trailing spaces and NULs; the text ends at the
   * first NUL left inside. An empty field is 0.
   */
  static long parseOctal(byte[] b, int offset, int length) {
    int start = offset;
    int end = offset + length;
    while (start < end && (b[start] == ' ' || b[start] == 0)) {
      start++;
    }
    while (end > start && (b[end - 1] == ' ' || b[end - 1] == 0)) {
      end--;
    }
    for (int i = start; i < end; i++) {
      if (b[i] == 0) {
        end = i;
        break;
      }
    }
    if (start == end) {
      return 0;
    }

    long value = 0;
    for (int i = start; i < end; i++) {
      int digit = b[i] - '0';
      if (digit < 0 || digit > 7) {
        throw new NumberFormatException("is not an octal number");
      }
      if ((value >>> 61) != 0) {
        throw new NumberFormatException("overflows 64 bits");
      }
      value = (value << 3) | digit;
    }
    return value;
  }

  /** Returns the bytes of a field up to its first NUL. */
  private static ByteString cString(byte[] block, int offset, int length) {
    int end = offset;
    while (end < offset + length && block[end] != 0) {
      end++;
    }
    return ByteString.copyOf(block, offset, end - offset);
  }

  private static boolean isAscii(ByteString text) {
    for (int i = 0; i < text.size(); i++) {
      if (text.byteAt(i) < 0) {
        return false;
      }
    }
    return true;
  }

  private static ByteString concat(ByteString prefix, ByteString name) {
    byte[] joined = new byte[prefix.size() + 1 + name.size()];
    System.arraycopy(prefix.toByteArray(), 0, joined, 0, prefix.size());
    joined[prefix.size()] = '/';
    System.arraycopy(name.toByteArray(), 0, joined, prefix.size() + 1, name.size());
    return ByteString.of(joined);
  }

  /** A numeric header field that does not parse; the message names the field and its bytes. */
  private static final class InvalidFieldException extends Exception {
    private static final long serialVersionUID = 1L;

    InvalidFieldException(String message) {
      super(message, null, false, false);
    }
  }
}
