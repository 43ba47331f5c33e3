package dev.jsoci.snapshotter.metadata;

/**
 * Splits a containerd filter expression into tokens.
 *
 * <p>A quote ({@code "}, {@code /} or {@code |}) starts a quoted token that runs to the same quote,
 * skipping backslash escapes. {@code ,} and {@code .} are separators, a run of {@code =}, {@code !}
 * and {@code ~} is an operator. Right after an operator the scanner reads a value: every character
 * up to a comma or white space. Elsewhere it reads fields of letters, digits, {@code _} and {@code
 * -}. White space between tokens is skipped.
 */
final class FilterScanner {
  enum Type {
    EOF,
    QUOTED,
    VALUE,
    FIELD,
    SEPARATOR,
    OPERATOR,
    ILLEGAL
  }

  /** A token and the index of its first character in the input. */
  record Token(Type type, int position, String text) {}

  /** Returned by {@link #peekChar()} at the end of the input. */
  static final int END = -1;

  private final String input;
  private int position;
  private boolean expectValue;
  private String error = "";

  FilterScanner(String input) {
    this.input = input;
  }

  /** Returns the next character without consuming it, white space included, or {@link #END}. */
  int peekChar() {
    return position < input.length() ? input.codePointAt(position) : END;
  }

  /** Returns the index just after the last consumed character. */
  int position() {
    return position;
  }

  /** Returns why the last {@link Type#ILLEGAL} token is illegal, or an empty string. */
  String error() {
    return error;
  }

  Token scan() {
    while (position < input.length() && Character.isWhitespace(input.codePointAt(position))) {
      position += Character.charCount(input.codePointAt(position));
    }
    int start = position;
    if (position >= input.length()) {
      return new Token(Type.EOF, start, "");
    }
    int c = input.codePointAt(position);
    position += Character.charCount(c);

    if (c == 0) {
      error = "unexpected null";
      return new Token(Type.ILLEGAL, start, "\0");
    }
    if (isQuote(c)) {
      return scanQuoted(c, start);
    }
    if (c == ',' || c == '.') {
      expectValue = false;
      return new Token(Type.SEPARATOR, start, input.substring(start, position));
    }
    if (isOperatorChar(c)) {
      while (position < input.length() && isOperatorChar(input.charAt(position))) {
        position++;
      }
      expectValue = true;
      return new Token(Type.OPERATOR, start, input.substring(start, position));
    }
    if (expectValue) {
      while (position < input.length() && isValueChar(input.codePointAt(position))) {
        position += Character.charCount(input.codePointAt(position));
      }
      expectValue = false;
      return new Token(Type.VALUE, start, input.substring(start, position));
    }
    if (isFieldChar(c)) {
      while (position < input.length() && isFieldChar(input.charAt(position))) {
        position++;
      }
      return new Token(Type.FIELD, start, input.substring(start, position));
    }
    error = "unexpected character " + new String(Character.toChars(c));
    return new Token(Type.ILLEGAL, start, input.substring(start, position));
  }

  private Token scanQuoted(int quote, int start) {
    while (position < input.length()) {
      char c = input.charAt(position);
      if (c == '\n') {
        break;
      }
      position++;
      if (c == '\\') {
        // The escaped character never ends the literal; Unquoter checks that it is valid.
        if (position < input.length()) {
          position++;
        }
      } else if (c == quote) {
        return new Token(Type.QUOTED, start, input.substring(start, position));
      }
    }
    error = "quoted literal not terminated";
    return new Token(Type.ILLEGAL, start, input.substring(start, position));
  }

  private static boolean isQuote(int c) {
    return c == '"' || c == '/' || c == '|';
  }

  private static boolean isOperatorChar(int c) {
    return c == '=' || c == '!' || c == '~';
  }

  static boolean isFieldChar(int c) {
    return c == '-'
        || c == '_'
        || (c >= 'A' && c <= 'Z')
        || (c >= 'a' && c <= 'z')
        || (c >= '0' && c <= '9');
  }

  private static boolean isValueChar(int c) {
    return c != ',' && !Character.isWhitespace(c) && !Character.isISOControl(c);
  }
}
