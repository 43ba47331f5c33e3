package dev.jsoci.oci;

import org.jspecify.annotations.Nullable;

/**
 * Decodes UTF-8 the way Go's {@code unicode/utf8.DecodeRune} does: every byte that does not start a
 * valid sequence becomes one U+FFFD, and decoding resumes at the next byte.
 *
 * <p>The JDK decoder replaces a maximal invalid subsequence with a single U+FFFD instead, so for
 * {@code E2 80 41} it returns one replacement character where Go returns two. Go's JSON decoder
 * applies the per-byte rule inside strings, and this class lets the parser match it.
 */
final class GoUtf8 {
  private static final char REPLACEMENT = '\ufffd';

  private GoUtf8() {}

  static String decode(byte[] bytes) {
    StringBuilder text = new StringBuilder(bytes.length);
    int i = 0;
    while (i < bytes.length) {
      int length = validSequenceLength(bytes, i);
      if (length == 0) {
        text.append(REPLACEMENT);
        i++;
        continue;
      }
      text.appendCodePoint(codePointAt(bytes, i, length));
      i += length;
    }
    return text.toString();
  }

  /**
   * Replaces every unpaired surrogate with U+FFFD, as Go does for a lone <code>&#92;uD800</code>
   * escape.
   */
  static String replaceUnpairedSurrogates(String text) {
    @Nullable StringBuilder result = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      boolean paired =
          Character.isHighSurrogate(c)
              && i + 1 < text.length()
              && Character.isLowSurrogate(text.charAt(i + 1));
      if (paired) {
        if (result != null) {
          result.append(c).append(text.charAt(i + 1));
        }
        i++;
        continue;
      }
      if (Character.isSurrogate(c)) {
        if (result == null) {
          result = new StringBuilder(text.length()).append(text, 0, i);
        }
        result.append(REPLACEMENT);
      } else if (result != null) {
        result.append(c);
      }
    }
    return result == null ? text : result.toString();
  }

  /**
   * Returns the length of the valid UTF-8 sequence at {@code start}, or 0 when the byte there does
   * not begin one. The second-byte ranges exclude overlong forms, surrogates (U+D800..U+DFFF) and
   * code points above U+10FFFF (RFC 3629 section 4).
   */
  private static int validSequenceLength(byte[] bytes, int start) {
    int first = bytes[start] & 0xff;
    if (first < 0x80) {
      return 1;
    }

    int length;
    int secondLow = 0x80;
    int secondHigh = 0xbf;
    if (first >= 0xc2 && first <= 0xdf) {
      length = 2;
    } else if (first >= 0xe0 && first <= 0xef) {
      length = 3;
      if (first == 0xe0) {
        secondLow = 0xa0;
      } else if (first == 0xed) {
        secondHigh = 0x9f;
      }
    } else if (first >= 0xf0 && first <= 0xf4) {
      length = 4;
      if (first == 0xf0) {
        secondLow = 0x90;
      } else if (first == 0xf4) {
        secondHigh = 0x8f;
      }
    } else {
      return 0;
    }

    if (start + length > bytes.length) {
      return 0;
    }
    int second = bytes[start + 1] & 0xff;
    if (second < secondLow || second > secondHigh) {
      return 0;
    }
    for (int i = 2; i < length; i++) {
      int next = bytes[start + i] & 0xff;
      if (next < 0x80 || next > 0xbf) {
        return 0;
      }
    }
    return length;
  }

  private static int codePointAt(byte[] bytes, int start, int length) {
    int first = bytes[start] & 0xff;
    if (length == 1) {
      return first;
    }
    int codePoint = first & (0xff >> (length + 1));
    for (int i = 1; i < length; i++) {
      codePoint = (codePoint << 6) | (bytes[start + i] & 0x3f);
    }
    return codePoint;
  }
}
