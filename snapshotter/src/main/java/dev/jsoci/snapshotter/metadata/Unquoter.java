package dev.jsoci.snapshotter.metadata;

/**
 * Decodes a quoted filter token with Go string-literal escapes ({@code \n}, {@code \x41}, {@code
 * \u00e9}, {@code \101} ...). Besides {@code "}, containerd accepts {@code /} and {@code |} as
 * quotes around regular expressions, where they behave like {@code "}.
 */
final class Unquoter {
  private Unquoter() {}

  /**
   * Returns the text between the quotes of {@code quoted}.
   *
   * @throws IllegalArgumentException if the literal or one of its escapes is malformed
   */
  static String unquote(String quoted) {
    int length = quoted.length();
    if (length < 2 || quoted.charAt(0) != quoted.charAt(length - 1)) {
      throw new IllegalArgumentException("quote syntax error");
    }
    char quote = quoted.charAt(0);
    String body = quoted.substring(1, length - 1);
    if (body.indexOf('\n') >= 0) {
      throw new IllegalArgumentException("quote syntax error");
    }

    StringBuilder text = new StringBuilder(body.length());
    int i = 0;
    while (i < body.length()) {
      char c = body.charAt(i);
      if (c == quote) {
        throw new IllegalArgumentException("quote syntax error");
      }
      if (c != '\\') {
        text.append(c);
        i++;
        continue;
      }
      if (i + 1 >= body.length()) {
        throw new IllegalArgumentException("quote syntax error");
      }
      char escape = body.charAt(i + 1);
      i += 2;
      switch (escape) {
        case 'a' -> text.append('\u0007');
        case 'b' -> text.append('\b');
        case 'f' -> text.append('\f');
        case 'n' -> text.append('\n');
        case 'r' -> text.append('\r');
        case 't' -> text.append('\t');
        case 'v' -> text.append('\u000b');
        case '\\' -> text.append('\\');
        case 'x', 'u', 'U' -> {
          int digits = escape == 'x' ? 2 : escape == 'u' ? 4 : 8;
          if (i + digits > body.length()) {
            throw new IllegalArgumentException("quote syntax error");
          }
          int value = parseDigits(body.substring(i, i + digits), 16);
          i += digits;
          if (value > Character.MAX_CODE_POINT) {
            throw new IllegalArgumentException("quote syntax error");
          }
          // NOTE: Go's \x escape sets one byte, which may be half of a UTF-8 sequence. Here it
          // sets the code point of that value, which is the same only for ASCII.
          text.appendCodePoint(value);
        }
        case '0', '1', '2', '3', '4', '5', '6', '7' -> {
          if (i + 2 > body.length()) {
            throw new IllegalArgumentException("quote syntax error");
          }
          int value = parseDigits(escape + body.substring(i, i + 2), 8);
          i += 2;
          if (value > 255) {
            throw new IllegalArgumentException("quote syntax error");
          }
          text.appendCodePoint(value);
        }
        default -> {
          if (escape != quote || escape == '\'') {
            throw new IllegalArgumentException("quote syntax error");
          }
          text.append(escape);
        }
      }
    }
    return text.toString();
  }

  private static int parseDigits(String digits, int radix) {
    int value = 0;
    for (int j = 0; j < digits.length(); j++) {
      int digit = Character.digit(digits.charAt(j), radix);
      if (digit < 0) {
        throw new IllegalArgumentException("quote syntax error");
      }
      value = value * radix + digit;
    }
    return value;
  }
}
