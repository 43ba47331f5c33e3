package dev.jsoci.ztoc.tar;

import dev.jsoci.ztoc.ByteString;

/** Renders raw tar bytes as quoted ASCII for error messages. */
final class ByteText {
  /** Maximum number of bytes shown; longer values end in "...". */
  private static final int MAX_SHOWN = 64;

  private ByteText() {}

  static String quote(ByteString value) {
    return quote(value.toByteArray(), 0, value.size());
  }

  /**
   * Returns the bytes in double quotes, printable ASCII as is and every other byte as {@code \xNN}.
   */
  static String quote(byte[] bytes, int offset, int length) {
    StringBuilder text = new StringBuilder(Math.min(length, MAX_SHOWN) + 8).append('"');
    for (int i = 0; i < Math.min(length, MAX_SHOWN); i++) {
      appendByte(text, bytes[offset + i]);
    }
    if (length > MAX_SHOWN) {
      text.append("...");
    }
    return text.append('"').toString();
  }

  /** Returns a tar type flag in single quotes, such as {@code 'g'} or {@code '\x00'}. */
  static String quoteTypeflag(byte typeflag) {
    StringBuilder text = new StringBuilder(6).append('\'');
    appendByte(text, typeflag);
    return text.append('\'').toString();
  }

  private static void appendByte(StringBuilder text, byte b) {
    int c = b & 0xff;
    if (c == '"' || c == '\\' || c == '\'') {
      text.append('\\').append((char) c);
    } else if (c >= 0x20 && c < 0x7f) {
      text.append((char) c);
    } else {
      text.append("\\x")
          .append(Character.forDigit(c >> 4, 16))
          .append(Character.forDigit(c & 15, 16));
    }
  }
}
