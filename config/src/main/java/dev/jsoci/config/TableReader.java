package dev.jsoci.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads typed values out of one TOML table, remembers which keys were read, and reports the keys it
 * never read as unknown. Every error message names the file, the full dotted key and the value.
 */
final class TableReader {
  private static final Pattern BARE_KEY = Pattern.compile("[A-Za-z0-9_-]+");

  private final String file;
  private final String path;
  private final ObjectNode table;
  private final List<String> warnings;
  private final Set<String> readKeys = new HashSet<>();
  private final List<TableReader> children = new ArrayList<>();

  TableReader(String file, String path, ObjectNode table, List<String> warnings) {
    this.file = file;
    this.path = path;
    this.table = table;
    this.warnings = warnings;
  }

  /** Returns the sub-table {@code key}, empty when absent; a non-table value is an error. */
  TableReader table(String key) throws InvalidConfigException {
    JsonNode value = take(key);
    ObjectNode subtable;
    if (value == null) {
      subtable = table.objectNode();
    } else if (value.isObject()) {
      subtable = (ObjectNode) value;
    } else {
      throw invalid(key, value, "a table");
    }
    TableReader child = new TableReader(file, qualify(key), subtable, warnings);
    children.add(child);
    return child;
  }

  /** Returns the sub-tables of {@code key} in file order, keyed by their names. */
  Map<String, TableReader> tables(String key) throws InvalidConfigException {
    TableReader parent = table(key);
    Map<String, TableReader> result = new LinkedHashMap<>();
    for (String name : parent.keys()) {
      result.put(name, parent.table(name));
    }
    return result;
  }

  /** Returns the array of tables {@code key} ({@code [[key]]}), empty when absent. */
  List<TableReader> arrayOfTables(String key) throws InvalidConfigException {
    JsonNode value = take(key);
    List<TableReader> result = new ArrayList<>();
    if (value == null) {
      return result;
    }
    if (!value.isArray()) {
      throw invalid(key, value, "an array of tables");
    }
    for (int i = 0; i < value.size(); i++) {
      JsonNode element = value.get(i);
      if (!element.isObject()) {
        throw invalid(key, value, "an array of tables");
      }
      TableReader child =
          new TableReader(file, qualify(key) + "[" + i + "]", (ObjectNode) element, warnings);
      children.add(child);
      result.add(child);
    }
    return result;
  }

  List<String> keys() {
    List<String> keys = new ArrayList<>();
    table.fieldNames().forEachRemaining(keys::add);
    return keys;
  }

  boolean bool(String key, boolean defaultValue) throws InvalidConfigException {
    JsonNode value = take(key);
    if (value == null) {
      return defaultValue;
    }
    if (!value.isBoolean()) {
      throw invalid(key, value, "true or false");
    }
    return value.booleanValue();
  }

  String string(String key, String defaultValue) throws InvalidConfigException {
    JsonNode value = take(key);
    if (value == null) {
      return defaultValue;
    }
    if (!value.isTextual()) {
      throw invalid(key, value, "a string");
    }
    return value.textValue();
  }

  /** Reads a string that must be one of {@code allowed}; the message lists them. */
  String choice(String key, String defaultValue, List<String> allowed)
      throws InvalidConfigException {
    String text = string(key, defaultValue);
    if (!allowed.contains(text)) {
      StringBuilder expected = new StringBuilder("one of");
      for (String option : allowed) {
        expected.append(' ').append('"').append(option).append('"');
      }
      throw invalid(key, expected.toString());
    }
    return text;
  }

  /** Returns whether {@code key} is present and an integer. */
  boolean isInteger(String key) {
    JsonNode value = table.get(key);
    return value != null && value.isIntegralNumber();
  }

  /** Returns whether {@code key} is present and a string. */
  boolean isString(String key) {
    JsonNode value = table.get(key);
    return value != null && value.isTextual();
  }

  /** Reads an integer, or returns null when the key is absent. */
  @Nullable Long integerOrNull(String key) throws InvalidConfigException {
    JsonNode value = take(key);
    if (value == null) {
      return null;
    }
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw invalid(key, value, "an integer");
    }
    return value.longValue();
  }

  /** Reads an integer; absent or 0 gives {@code defaultValue}, as soci-snapshotter does. */
  long integerOrDefault(String key, long defaultValue) throws InvalidConfigException {
    Long value = integerOrNull(key);
    return value == null || value == 0 ? defaultValue : value;
  }

  /**
   * Reads a positive count; absent or 0 gives {@code defaultValue}. A negative value is an error
   * unless {@code negativeMeansUnlimited}, in which case it becomes -1.
   */
  int count(String key, int defaultValue, boolean negativeMeansUnlimited)
      throws InvalidConfigException {
    long value = integerOrDefault(key, defaultValue);
    if (value < 0) {
      if (negativeMeansUnlimited) {
        return -1;
      }
      throw invalid(key, "a positive integer");
    }
    return checkedInt(key, value);
  }

  /** Reads a non-negative duration in {@code unit}s; absent or 0 gives {@code defaultValue}. */
  Duration duration(String key, Duration defaultValue, DurationUnit unit)
      throws InvalidConfigException {
    Long value = integerOrNull(key);
    if (value == null || value == 0) {
      return defaultValue;
    }
    if (value < 0) {
      throw invalid(key, "a positive number of " + unit.word());
    }
    return boundedDuration(key, value, unit);
  }

  /**
   * Returns {@code value} in {@code unit} as a duration, at most {@link DurationUnit#max()},
   * because OkHttp takes its timeouts in int milliseconds and rejects longer ones.
   */
  Duration boundedDuration(String key, long value, DurationUnit unit)
      throws InvalidConfigException {
    if (value > unit.max()) {
      throw invalid(
          key, "a number of " + unit.word() + " up to " + unit.max() + " (about 24 days)");
    }
    return unit.toDuration(value);
  }

  int checkedInt(String key, long value) throws InvalidConfigException {
    if (value > Integer.MAX_VALUE || value < Integer.MIN_VALUE) {
      throw invalid(key, "an integer between -2147483648 and 2147483647");
    }
    return (int) value;
  }

  /** Marks a key as known to soci-snapshotter but without effect in jsoci. */
  void ignore(String key, String reason) {
    if (take(key) != null) {
      warnings.add(file + ": " + qualify(key) + " has no effect in jsoci: " + reason);
    }
  }

  /** Marks every key of this table as known but without effect in jsoci. */
  void ignoreAll(String reason) {
    for (String key : keys()) {
      ignore(key, reason);
    }
  }

  /** Adds a warning for every key of this table and its sub-tables that nothing has read. */
  void reportUnknownKeys() {
    for (Iterator<String> names = table.fieldNames(); names.hasNext(); ) {
      String key = names.next();
      if (!readKeys.contains(key)) {
        warnings.add(file + ": unknown config key " + qualify(key) + " (ignored)");
      }
    }
    for (TableReader child : children) {
      child.reportUnknownKeys();
    }
  }

  /**
   * Returns the error for the value of {@code key} in this table, which was not {@code expected}.
   */
  InvalidConfigException invalid(String key, String expected) {
    return invalid(key, table.get(key), expected);
  }

  /** Returns the error for a key that is set under two spellings. */
  InvalidConfigException conflict(String spelling, String otherSpelling) {
    return new InvalidConfigException(
        file
            + ": both "
            + qualify(spelling)
            + " and "
            + qualify(otherSpelling)
            + " are set: keep one of them");
  }

  InvalidConfigException invalid(String key, @Nullable JsonNode value, String expected) {
    return new InvalidConfigException(
        file
            + ": invalid value "
            + describe(value)
            + " for "
            + qualify(key)
            + ": expected "
            + expected);
  }

  String qualify(String key) {
    String quoted = BARE_KEY.matcher(key).matches() ? key : "\"" + key.replace("\"", "\\\"") + "\"";
    return path.isEmpty() ? quoted : path + "." + quoted;
  }

  private @Nullable JsonNode take(String key) {
    readKeys.add(key);
    return table.get(key);
  }

  private static String describe(@Nullable JsonNode value) {
    if (value == null) {
      return "(missing)";
    }
    // JsonNode.toString writes strings with their quotes, as TOML does.
    return value.toString();
  }

  /** Units of the integer durations in soci-snapshotter's config keys. */
  enum DurationUnit {
    MILLISECONDS("milliseconds"),
    SECONDS("seconds");

    private final String word;

    DurationUnit(String word) {
      this.word = word;
    }

    String word() {
      return word;
    }

    Duration toDuration(long value) {
      return this == MILLISECONDS ? Duration.ofMillis(value) : Duration.ofSeconds(value);
    }

    /** Returns the largest value a key in this unit takes: {@code Integer.MAX_VALUE} ms. */
    long max() {
      return this == MILLISECONDS ? Integer.MAX_VALUE : Integer.MAX_VALUE / 1000;
    }
  }
}
