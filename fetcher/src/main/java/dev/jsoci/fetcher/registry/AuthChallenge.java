package dev.jsoci.fetcher.registry;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One challenge of a {@code WWW-Authenticate} header (RFC 7235 section 4.1), such as {@code Bearer
 * realm="https://auth.example/token",service="registry.example",scope="repository:app:pull"}.
 *
 * @param scheme the authentication scheme in lowercase, for example {@code bearer} or {@code basic}
 * @param parameters the auth-params with lowercase names and unquoted values, in header order
 */
record AuthChallenge(String scheme, Map<String, String> parameters) {

  AuthChallenge {
    parameters = Map.copyOf(parameters);
  }

  /** Returns the parameter {@code name} (lowercase), or null. */
  @Nullable String parameter(String name) {
    return parameters.get(name);
  }

  /** Returns the value of the {@code realm} parameter, or an empty string. */
  String realm() {
    String realm = parameters.get("realm");
    return realm == null ? "" : realm;
  }

  /**
   * Parses every challenge of the given {@code WWW-Authenticate} header values.
   *
   * <p>The grammar (RFC 7235 section 2.1, with list syntax from RFC 7230 section 7): {@code
   * challenge = auth-scheme [ 1*SP #auth-param ]} and {@code auth-param = token BWS "=" BWS ( token
   * / quoted-string )}. A header may hold several challenges separated by commas, and a token
   * followed by {@code =} is a parameter of the challenge before it. Quoted strings may contain
   * commas and backslash escapes. Input that does not fit is skipped, never rejected.
   */
  static List<AuthChallenge> parse(List<String> headerValues) {
    List<AuthChallenge> challenges = new ArrayList<>();
    for (String value : headerValues) {
      new Parser(value).parseInto(challenges);
    }
    return challenges;
  }

  /** Returns the first challenge with {@code scheme} (lowercase), or null. */
  static @Nullable AuthChallenge find(List<AuthChallenge> challenges, String scheme) {
    for (AuthChallenge challenge : challenges) {
      if (challenge.scheme.equals(scheme)) {
        return challenge;
      }
    }
    return null;
  }

  @Override
  public String toString() {
    // Only the scheme and realm, which identify the challenge without its other parameters.
    return scheme + (parameters.containsKey("realm") ? " realm=\"" + realm() + "\"" : "");
  }

  private static final class Parser {
    private final String text;
    private int position;

    Parser(String text) {
      this.text = text;
    }

    void parseInto(List<AuthChallenge> challenges) {
      @Nullable String scheme = null;
      Map<String, String> parameters = new LinkedHashMap<>();
      while (true) {
        skipSeparators();
        if (position >= text.length()) {
          break;
        }
        String token = readToken();
        if (token.isEmpty()) {
          position++; // A character that cannot start a token: skip it.
          continue;
        }
        skipWhitespace();
        boolean isParameter = scheme != null && peek() == '=';
        if (!isParameter) {
          if (scheme != null) {
            challenges.add(new AuthChallenge(scheme, parameters));
          }
          scheme = token.toLowerCase(Locale.ROOT);
          parameters = new LinkedHashMap<>();
          continue;
        }
        position++; // '='
        skipWhitespace();
        String value = peek() == '"' ? readQuotedString() : readToken();
        parameters.putIfAbsent(token.toLowerCase(Locale.ROOT), value);
      }
      if (scheme != null) {
        challenges.add(new AuthChallenge(scheme, parameters));
      }
    }

    private char peek() {
      return position < text.length() ? text.charAt(position) : '\0';
    }

    private void skipWhitespace() {
      while (position < text.length() && (peek() == ' ' || peek() == '\t')) {
        position++;
      }
    }

    private void skipSeparators() {
      while (position < text.length() && (peek() == ' ' || peek() == '\t' || peek() == ',')) {
        position++;
      }
    }

    private String readToken() {
      int start = position;
      while (position < text.length() && isTokenChar(text.charAt(position))) {
        position++;
      }
      return text.substring(start, position);
    }

    /** Reads a quoted-string (RFC 7230 section 3.2.6) and returns it unquoted and unescaped. */
    private String readQuotedString() {
      StringBuilder value = new StringBuilder();
      position++; // opening quote
      while (position < text.length()) {
        char c = text.charAt(position++);
        if (c == '"') {
          break;
        }
        if (c == '\\' && position < text.length()) {
          c = text.charAt(position++);
        }
        value.append(c);
      }
      return value.toString();
    }

    /** Returns whether {@code c} is a tchar of RFC 7230 section 3.2.6. */
    private static boolean isTokenChar(char c) {
      return (c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || "!#$%&'*+-.^_`|~/:".indexOf(c) >= 0;
    }
  }
}
