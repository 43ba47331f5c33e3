package dev.jsoci.oci;

import java.util.Collections;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The order of strings by their UTF-8 bytes, which Go uses for sorted map keys and {@code
 * sort.Strings}.
 *
 * <p>UTF-8 byte order equals code point order. {@link String#compareTo} compares UTF-16 code units
 * instead, which puts supplementary characters (surrogate pairs) before U+E000..U+FFFF, so it
 * cannot be used here.
 */
final class Utf8Order {

  static final Comparator<String> COMPARATOR = Utf8Order::compare;

  private Utf8Order() {}

  static int compare(String left, String right) {
    int leftIndex = 0;
    int rightIndex = 0;
    while (leftIndex < left.length() && rightIndex < right.length()) {
      int leftCodePoint = left.codePointAt(leftIndex);
      int rightCodePoint = right.codePointAt(rightIndex);
      if (leftCodePoint != rightCodePoint) {
        return Integer.compare(leftCodePoint, rightCodePoint);
      }
      leftIndex += Character.charCount(leftCodePoint);
      rightIndex += Character.charCount(rightCodePoint);
    }
    return Boolean.compare(leftIndex < left.length(), rightIndex < right.length());
  }

  /** Returns an unmodifiable copy of {@code map} that iterates its keys in UTF-8 byte order. */
  static Map<String, String> sortedCopy(Map<String, String> map) {
    TreeMap<String, String> sorted = new TreeMap<>(COMPARATOR);
    for (Map.Entry<String, String> entry : map.entrySet()) {
      String key = Objects.requireNonNull(entry.getKey(), "null key");
      sorted.put(key, Objects.requireNonNull(entry.getValue(), () -> "null value for " + key));
    }
    return Collections.unmodifiableSortedMap(sorted);
  }
}
