package dev.jsoci.ztoc.tar;

import java.time.LocalDateTime;
import java.time.ZoneOffset;

/**
 * A modification time as Go's {@code time.Unix(seconds, nanos)} receives it from a tar header, and
 * its zTOC text.
 *
 * @param seconds seconds since the Unix epoch, any 64-bit value
 * @param nanos nanoseconds added to {@code seconds}, from -999999999 to 999999999
 */
record ModTime(long seconds, long nanos) {
  /** 0000-01-01T00:00:00Z, the first second that RFC 3339 can express. */
  private static final long MIN_SECONDS = -62_167_219_200L;

  /** 9999-12-31T23:59:59Z, the last second that RFC 3339 can express. */
  private static final long MAX_SECONDS = 253_402_300_799L;

  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  ModTime {
    if (nanos <= -NANOS_PER_SECOND || nanos >= NANOS_PER_SECOND) {
      throw new IllegalArgumentException("nanos out of range: " + nanos);
    }
  }

  static ModTime ofSeconds(long seconds) {
    return new ModTime(seconds, 0);
  }

  /**
   * Returns the time as Go's {@code time.Time.MarshalText} writes it in UTC, the form the reference
   * builder stores: RFC 3339 with {@code Z}, nanoseconds without trailing zeros and no fraction
   * when it is zero, such as {@code 2023-11-14T22:13:20.5Z}. Returns an empty string for a year
   * outside 0 to 9999, which Go cannot write and the reference stores as empty text.
   */
  String toRfc3339() {
    long wholeSeconds = seconds;
    long fraction = nanos;
    if (fraction < 0) {
      if (wholeSeconds == Long.MIN_VALUE) {
        return "";
      }
      wholeSeconds--;
      fraction += NANOS_PER_SECOND;
    }
    if (wholeSeconds < MIN_SECONDS || wholeSeconds > MAX_SECONDS) {
      return "";
    }

    LocalDateTime time = LocalDateTime.ofEpochSecond(wholeSeconds, (int) fraction, ZoneOffset.UTC);
    StringBuilder text = new StringBuilder(30);
    appendPadded(text, time.getYear(), 4).append('-');
    appendPadded(text, time.getMonthValue(), 2).append('-');
    appendPadded(text, time.getDayOfMonth(), 2).append('T');
    appendPadded(text, time.getHour(), 2).append(':');
    appendPadded(text, time.getMinute(), 2).append(':');
    appendPadded(text, time.getSecond(), 2);
    if (fraction != 0) {
      StringBuilder digits = new StringBuilder(9);
      appendPadded(digits, fraction, 9);
      int length = digits.length();
      while (digits.charAt(length - 1) == '0') {
        length--;
      }
      text.append('.').append(digits, 0, length);
    }
    return text.append('Z').toString();
  }

  private static StringBuilder appendPadded(StringBuilder text, long value, int width) {
    String digits = Long.toString(value);
    for (int i = digits.length(); i < width; i++) {
      text.append('0');
    }
    return text.append(digits);
  }
}
