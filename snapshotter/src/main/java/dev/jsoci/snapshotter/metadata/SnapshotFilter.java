package dev.jsoci.snapshotter.metadata;

import dev.jsoci.snapshotter.errdefs.InvalidArgumentException;
import dev.jsoci.snapshotter.metadata.FilterScanner.Token;
import dev.jsoci.snapshotter.metadata.FilterScanner.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A List filter in containerd's filter language, matched against {@link SnapshotInfo}s.
 *
 * <p>Each string is a comma-separated list of selectors that must all match; a snapshot matches the
 * filter when any string matches, and an empty list matches everything. A selector is {@code
 * <fieldpath>[<operator><value>]}: without an operator it tests that the field is present; {@code
 * ==} and {@code !=} compare, {@code ~=} searches for a regular expression. Field paths are {@code
 * kind} ({@code active}, {@code view}, {@code committed}), {@code name}, {@code parent} and {@code
 * labels.<key>}, where a key with dots is quoted: {@code labels."containerd.io/snapshot.ref"}.
 *
 * <pre>
 * selectors := selector ("," selector)*
 * selector  := fieldpath [operator value]
 * fieldpath := field ("." field)*
 * field     := quoted | [A-Za-z0-9_-]+
 * operator  := "==" | "!=" | "~="
 * value     := quoted | [^\s,]+
 * quoted    := a Go string literal; a ~= value may also be quoted with / or |
 * </pre>
 *
 * <p>Regular expressions use {@link java.util.regex.Pattern} syntax, which agrees with Go's RE2 on
 * common expressions; one that does not compile is rejected when parsed.
 */
public final class SnapshotFilter {
  private static final SnapshotFilter ALWAYS = new SnapshotFilter(List.of());

  private final List<List<Selector>> alternatives;

  private SnapshotFilter(List<List<Selector>> alternatives) {
    this.alternatives = alternatives;
  }

  /**
   * Parses the filters of a List request.
   *
   * @throws InvalidArgumentException if one of them does not parse; the message names it
   */
  public static SnapshotFilter parseAll(List<String> filters) throws InvalidArgumentException {
    if (filters.isEmpty()) {
      return ALWAYS;
    }
    List<List<Selector>> alternatives = new ArrayList<>();
    for (String filter : filters) {
      if (filter.isEmpty()) {
        // An empty string matches everything, so the whole filter does.
        return ALWAYS;
      }
      alternatives.add(new Parser(filter).selectors());
    }
    return new SnapshotFilter(List.copyOf(alternatives));
  }

  /** Returns whether {@code info} matches. */
  public boolean matches(SnapshotInfo info) {
    if (alternatives.isEmpty()) {
      return true;
    }
    for (List<Selector> selectors : alternatives) {
      if (selectors.stream().allMatch(selector -> selector.matches(info))) {
        return true;
      }
    }
    return false;
  }

  private enum Operator {
    PRESENT,
    EQUAL,
    NOT_EQUAL,
    MATCHES
  }

  private record Selector(
      List<String> fieldPath, Operator operator, String value, Optional<Pattern> pattern) {

    boolean matches(SnapshotInfo info) {
      Optional<String> field = field(info);
      return switch (operator) {
        case PRESENT -> field.isPresent();
        case EQUAL -> field.isPresent() && field.get().equals(value);
        case NOT_EQUAL -> !field.orElse("").equals(value);
        case MATCHES -> pattern.orElseThrow().matcher(field.orElse("")).find();
      };
    }

    private Optional<String> field(SnapshotInfo info) {
      switch (fieldPath.get(0)) {
        case "kind":
          return Optional.of(info.kind().filterName());
        case "name":
          return Optional.of(info.name());
        case "parent":
          return Optional.of(info.parent());
        case "labels":
          String key = String.join(".", fieldPath.subList(1, fieldPath.size()));
          return Optional.ofNullable(info.labels().get(key));
        default:
          return Optional.empty();
      }
    }
  }

  /** A recursive-descent parser of one filter string. */
  private static final class Parser {
    private final String input;
    private final FilterScanner scanner;

    Parser(String input) {
      this.input = input;
      this.scanner = new FilterScanner(input);
    }

    List<Selector> selectors() throws InvalidArgumentException {
      List<Selector> selectors = new ArrayList<>();
      selectors.add(selector());
      while (true) {
        int next = scanner.peekChar();
        if (next == FilterScanner.END) {
          return List.copyOf(selectors);
        }
        if (next != ',') {
          throw error(scanner.position(), "unexpected input: " + Character.toString(next));
        }
        scanner.scan();
        selectors.add(selector());
      }
    }

    private Selector selector() throws InvalidArgumentException {
      List<String> fieldPath = fieldPath();
      int next = scanner.peekChar();
      if (next == ',' || next == FilterScanner.END) {
        return new Selector(fieldPath, Operator.PRESENT, "", Optional.empty());
      }

      Operator operator = operator();
      String value = value(operator == Operator.MATCHES);
      Optional<Pattern> pattern = Optional.empty();
      if (operator == Operator.MATCHES) {
        try {
          pattern = Optional.of(Pattern.compile(value));
        } catch (PatternSyntaxException e) {
          throw error(scanner.position() - 1, "invalid regular expression: " + e.getDescription());
        }
      }
      return new Selector(fieldPath, operator, value, pattern);
    }

    private List<String> fieldPath() throws InvalidArgumentException {
      List<String> fields = new ArrayList<>();
      fields.add(field());
      while (scanner.peekChar() == '.') {
        scanner.scan();
        fields.add(field());
      }
      return List.copyOf(fields);
    }

    private String field() throws InvalidArgumentException {
      Token token = scanner.scan();
      return switch (token.type()) {
        case FIELD -> token.text();
        case QUOTED -> unquote(token, false);
        case ILLEGAL -> throw error(token.position(), scanner.error());
        default -> throw error(token.position(), "expected field or quoted");
      };
    }

    private Operator operator() throws InvalidArgumentException {
      Token token = scanner.scan();
      if (token.type() != Type.OPERATOR) {
        throw error(token.position(), "expected an operator (\"==\"|\"!=\"|\"~=\")");
      }
      return switch (token.text()) {
        case "==" -> Operator.EQUAL;
        case "!=" -> Operator.NOT_EQUAL;
        case "~=" -> Operator.MATCHES;
        default -> throw error(token.position(), "unsupported operator \"" + token.text() + "\"");
      };
    }

    private String value(boolean allowRegexQuotes) throws InvalidArgumentException {
      Token token = scanner.scan();
      return switch (token.type()) {
        case VALUE, FIELD -> token.text();
        case QUOTED -> unquote(token, allowRegexQuotes);
        case ILLEGAL -> throw error(token.position(), scanner.error());
        default -> throw error(token.position(), "expected value or quoted");
      };
    }

    private String unquote(Token token, boolean allowRegexQuotes) throws InvalidArgumentException {
      if (!allowRegexQuotes && token.text().charAt(0) != '"') {
        throw error(token.position(), "invalid quote encountered");
      }
      try {
        return Unquoter.unquote(token.text());
      } catch (IllegalArgumentException e) {
        throw error(token.position(), "unquoting failed: " + e.getMessage());
      }
    }

    private InvalidArgumentException error(int position, String message) {
      return new InvalidArgumentException(
          "invalid filter \"" + input + "\" at position " + position + ": " + message);
    }
  }
}
