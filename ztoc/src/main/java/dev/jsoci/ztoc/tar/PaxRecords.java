package dev.jsoci.ztoc.tar;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.LayerFormatException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Parses the records of a POSIX.1-2001 pax extended header ({@code x}) and applies them to the next
 * entry's header, with the rules of Go's {@code archive/tar} reader.
 *
 * <p>A record is {@code "<length> <key>=<value>\n"}, where {@code <length>} is the decimal byte
 * count of the whole record, including its own digits and the newline. Keys and values are raw
 * bytes: values may be binary (xattrs) or invalid UTF-8.
 */
final class PaxRecords {
  static final ByteString PATH = ByteString.utf8("path");
  static final ByteString LINKPATH = ByteString.utf8("linkpath");
  static final ByteString UNAME = ByteString.utf8("uname");
  static final ByteString GNAME = ByteString.utf8("gname");
  static final ByteString UID = ByteString.utf8("uid");
  static final ByteString GID = ByteString.utf8("gid");
  static final ByteString ATIME = ByteString.utf8("atime");
  static final ByteString MTIME = ByteString.utf8("mtime");
  static final ByteString CTIME = ByteString.utf8("ctime");
  static final ByteString SIZE = ByteString.utf8("size");

  // GNU tar's sparse file records. Format 0.0 repeats offset and numbytes once per data block;
  // 0.1 stores them in one comma-separated map; 1.0 puts the map at the start of the data.
  static final ByteString GNU_SPARSE_OFFSET = ByteString.utf8("GNU.sparse.offset");
  static final ByteString GNU_SPARSE_NUMBYTES = ByteString.utf8("GNU.sparse.numbytes");
  static final ByteString GNU_SPARSE_MAP = ByteString.utf8("GNU.sparse.map");
  static final ByteString GNU_SPARSE_MAJOR = ByteString.utf8("GNU.sparse.major");
  static final ByteString GNU_SPARSE_MINOR = ByteString.utf8("GNU.sparse.minor");
  // The file's real name in formats 0.1 and 1.0, whose header names a GNUSparseFile.N/ path.
  static final ByteString GNU_SPARSE_NAME = ByteString.utf8("GNU.sparse.name");

  private static final ByteString DIGIT_ZERO = ByteString.utf8("0");
  private static final ByteString DIGIT_ONE = ByteString.utf8("1");
  private static final int MAX_NANOSECOND_DIGITS = 9;
  private static final BigInteger MIN_INT64 = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger MAX_INT64 = BigInteger.valueOf(Long.MAX_VALUE);

  private PaxRecords() {}

  /**
   * Parses the records of one extended header into a map sorted by key, byte-wise. A later record
   * replaces an earlier one with the same key. GNU sparse 0.0 {@code offset}/{@code numbytes} pairs
   * are folded into one {@code GNU.sparse.map} record, as Go does.
   *
   * @param payload the header's data
   * @param dataOffset offset of the payload in the tar stream, for messages
   * @throws LayerFormatException naming the offset of the first malformed record
   */
  static TreeMap<ByteString, ByteString> parse(byte[] payload, long dataOffset, String layer)
      throws LayerFormatException {
    int length = payload.length;
    TreeMap<ByteString, ByteString> records = new TreeMap<>();
    List<ByteString> sparseMap = new ArrayList<>();
    int position = 0;
    while (position < length) {
      // The length field ends at the first space.
      int space = indexOf(payload, (byte) ' ', position, length);
      if (space < 0) {
        throw invalidRecord(layer, dataOffset + position, "no space after the length field");
      }
      long recordLength;
      try {
        recordLength = parseDecimal(payload, position, space - position);
      } catch (NumberFormatException e) {
        throw invalidRecord(
            layer,
            dataOffset + position,
            "length field " + ByteText.quote(payload, position, space - position) + " is invalid");
      }
      if (recordLength <= space - position + 1
          || recordLength < 5
          || recordLength > length - position) {
        throw invalidRecord(
            layer,
            dataOffset + position,
            "length "
                + recordLength
                + " is out of range for the "
                + (length - position)
                + " bytes left");
      }

      int end = position + (int) recordLength;
      if (payload[end - 1] != '\n') {
        throw invalidRecord(layer, dataOffset + position, "record does not end in a newline");
      }
      int equals = indexOf(payload, (byte) '=', space + 1, end - 1);
      if (equals < 0) {
        throw invalidRecord(layer, dataOffset + position, "record has no '='");
      }
      ByteString key = ByteString.copyOf(payload, space + 1, equals - space - 1);
      ByteString value = ByteString.copyOf(payload, equals + 1, end - 1 - equals - 1);
      String problem = validate(key, value);
      if (problem != null) {
        throw invalidRecord(layer, dataOffset + position, problem);
      }

      if (key.equals(GNU_SPARSE_OFFSET) || key.equals(GNU_SPARSE_NUMBYTES)) {
        ByteString expected = sparseMap.size() % 2 == 0 ? GNU_SPARSE_OFFSET : GNU_SPARSE_NUMBYTES;
        if (!key.equals(expected) || contains(value, (byte) ',')) {
          throw invalidRecord(
              layer, dataOffset + position, "GNU sparse 0.0 records out of order or with a ','");
        }
        sparseMap.add(value);
      } else {
        records.put(key, value);
      }
      position = end;
    }
    if (!sparseMap.isEmpty()) {
      records.put(GNU_SPARSE_MAP, join(sparseMap));
    }
    return records;
  }

  /** Returns why a record is invalid, or null when it is valid. */
  private static @Nullable String validate(ByteString key, ByteString value) {
    if (key.isEmpty()) {
      return "empty key";
    }
    // Go rejects a NUL in the values that replace header string fields, and in every other key.
    if (key.equals(PATH) || key.equals(LINKPATH) || key.equals(UNAME) || key.equals(GNAME)) {
      return contains(value, (byte) 0) ? "NUL byte in the value of " + key : null;
    }
    return contains(key, (byte) 0) ? "NUL byte in key " + ByteText.quote(key) : null;
  }

  /**
   * Applies the records of the entry's last extended header to its header fields. A record with an
   * empty value leaves its field as it is.
   *
   * @param offset offset of the entry's header block, for messages
   * @throws LayerFormatException if a numeric or time value does not parse
   */
  static void applyTo(
      TarHeader header, Map<ByteString, ByteString> records, long offset, String layer)
      throws LayerFormatException {
    for (Map.Entry<ByteString, ByteString> record : records.entrySet()) {
      ByteString key = record.getKey();
      ByteString value = record.getValue();
      if (value.isEmpty()) {
        continue;
      }
      try {
        if (key.equals(PATH)) {
          header.name = value;
        } else if (key.equals(LINKPATH)) {
          header.linkname = value;
        } else if (key.equals(UNAME)) {
          header.uname = value;
        } else if (key.equals(GNAME)) {
          header.gname = value;
        } else if (key.equals(UID)) {
          header.uid = parseDecimal(value);
        } else if (key.equals(GID)) {
          header.gid = parseDecimal(value);
        } else if (key.equals(SIZE)) {
          header.size = parseDecimal(value);
        } else if (key.equals(MTIME)) {
          header.modTime = parseTime(value);
        } else if (key.equals(ATIME) || key.equals(CTIME)) {
          // Not part of the TOC, but Go rejects the entry when they do not parse.
          parseTime(value);
        }
      } catch (NumberFormatException e) {
        boolean isTime = key.equals(MTIME) || key.equals(ATIME) || key.equals(CTIME);
        String expected = isTime ? "a time in seconds[.fraction]" : "a 64-bit decimal integer";
        throw new LayerFormatException(
            layer,
            offset,
            "invalid PAX record " + key + "=" + ByteText.quote(value) + ": expected " + expected);
      }
    }
  }

  /**
   * Returns whether the records describe a GNU sparse file (formats 0.0, 0.1 and 1.0), by the test
   * Go uses: a known {@code major.minor} version, or no version and a non-empty {@code
   * GNU.sparse.map}. Unknown versions are read as plain files, as Go reads them.
   */
  static boolean describesSparseFile(Map<ByteString, ByteString> records) {
    ByteString major = records.getOrDefault(GNU_SPARSE_MAJOR, ByteString.EMPTY);
    ByteString minor = records.getOrDefault(GNU_SPARSE_MINOR, ByteString.EMPTY);
    if (major.equals(DIGIT_ZERO) && (minor.equals(DIGIT_ZERO) || minor.equals(DIGIT_ONE))) {
      return true;
    }
    if (major.equals(DIGIT_ONE) && minor.equals(DIGIT_ZERO)) {
      return true;
    }
    if (!major.isEmpty() || !minor.isEmpty()) {
      return false;
    }
    return !records.getOrDefault(GNU_SPARSE_MAP, ByteString.EMPTY).isEmpty();
  }

  /**
   * Parses a pax time {@code <seconds>[.<fraction>]}: seconds is a signed decimal, the fraction has
   * digits only and is cut to nanoseconds. A negative time counts the fraction towards the past, so
   * {@code -1.5} is 1.5 seconds before the epoch.
   *
   * @throws NumberFormatException if the text is not such a time
   */
  static ModTime parseTime(ByteString text) {
    byte[] bytes = text.toByteArray();
    int dot = indexOf(bytes, (byte) '.', 0, bytes.length);
    int secondsEnd = dot < 0 ? bytes.length : dot;
    long seconds = parseDecimal(bytes, 0, secondsEnd);
    if (dot < 0 || dot == bytes.length - 1) {
      return ModTime.ofSeconds(seconds);
    }

    long nanos = 0;
    for (int i = 0; i < MAX_NANOSECOND_DIGITS; i++) {
      int index = dot + 1 + i;
      nanos = nanos * 10 + (index < bytes.length ? digit(bytes[index]) : 0);
    }
    for (int i = dot + 1 + MAX_NANOSECOND_DIGITS; i < bytes.length; i++) {
      digit(bytes[i]);
    }
    return new ModTime(seconds, bytes[0] == '-' ? -nanos : nanos);
  }

  private static int digit(byte b) {
    if (b < '0' || b > '9') {
      throw new NumberFormatException("not a digit: " + (char) (b & 0xff));
    }
    return b - '0';
  }

  static long parseDecimal(ByteString text) {
    return parseDecimal(text.toByteArray(), 0, text.size());
  }

  /**
   * Parses a signed 64-bit decimal as Go's {@code strconv.ParseInt(s, 10, 64)} does: an optional
   * {@code +} or {@code -}, then one or more ASCII digits, and nothing else.
   *
   * @throws NumberFormatException if the text is not such a number or is out of range
   */
  static long parseDecimal(byte[] bytes, int offset, int length) {
    int start = offset;
    int end = offset + length;
    boolean negative = false;
    if (start < end && (bytes[start] == '+' || bytes[start] == '-')) {
      negative = bytes[start] == '-';
      start++;
    }
    if (start == end) {
      throw new NumberFormatException("no digits");
    }

    // Up to 18 digits cannot overflow a long; longer text goes through BigInteger.
    if (end - start <= 18) {
      long value = 0;
      for (int i = start; i < end; i++) {
        value = value * 10 + digit(bytes[i]);
      }
      return negative ? -value : value;
    }
    StringBuilder digits = new StringBuilder(end - start + 1).append(negative ? '-' : '+');
    for (int i = start; i < end; i++) {
      digits.append((char) ('0' + digit(bytes[i])));
    }
    BigInteger value = new BigInteger(digits.toString());
    if (value.compareTo(MIN_INT64) < 0 || value.compareTo(MAX_INT64) > 0) {
      throw new NumberFormatException("out of the int64 range");
    }
    return value.longValueExact();
  }

  private static LayerFormatException invalidRecord(String layer, long offset, String problem) {
    return new LayerFormatException(layer, offset, "invalid PAX record: " + problem);
  }

  private static int indexOf(byte[] bytes, byte target, int from, int to) {
    for (int i = from; i < to; i++) {
      if (bytes[i] == target) {
        return i;
      }
    }
    return -1;
  }

  private static boolean contains(ByteString text, byte target) {
    for (int i = 0; i < text.size(); i++) {
      if (text.byteAt(i) == target) {
        return true;
      }
    }
    return false;
  }

  private static ByteString join(List<ByteString> values) {
    int size = values.size() - 1;
    for (ByteString value : values) {
      size += value.size();
    }
    byte[] joined = new byte[size];
    int position = 0;
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) {
        joined[position++] = ',';
      }
      ByteString value = values.get(i);
      System.arraycopy(value.toByteArray(), 0, joined, position, value.size());
      position += value.size();
    }
    return ByteString.of(joined);
  }
}
