package dev.jsoci.fetcher.registry;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A parsed {@code Content-Range} response header (RFC 9110 section 14.4): {@code bytes
 * <first>-<last>/<complete length>} or {@code bytes <first>-<last>/*}, or {@code bytes *}{@code
 * /<complete length>} in a 416 response.
 *
 * @param first the first byte position, or -1 for the unsatisfied form
 * @param last the last byte position (inclusive), or -1 for the unsatisfied form
 * @param completeLength the blob size, or -1 when the server wrote {@code *}
 */
record ContentRange(long first, long last, long completeLength) {
  private static final Pattern SATISFIED =
      Pattern.compile("bytes\\s+([0-9]{1,19})-([0-9]{1,19})/([0-9]{1,19}|\\*)");
  private static final Pattern UNSATISFIED = Pattern.compile("bytes\\s+\\*/([0-9]{1,19})");

  /** Returns the parsed header, or null when {@code value} is absent or malformed. */
  static @Nullable ContentRange parse(@Nullable String value) {
    if (value == null) {
      return null;
    }
    String text = value.trim();
    try {
      Matcher satisfied = SATISFIED.matcher(text);
      if (satisfied.matches()) {
        long first = Long.parseLong(satisfied.group(1));
        long last = Long.parseLong(satisfied.group(2));
        long length = satisfied.group(3).equals("*") ? -1 : Long.parseLong(satisfied.group(3));
        if (last < first || (length >= 0 && last >= length)) {
          return null;
        }
        return new ContentRange(first, last, length);
      }
      Matcher unsatisfied = UNSATISFIED.matcher(text);
      if (unsatisfied.matches()) {
        return new ContentRange(-1, -1, Long.parseLong(unsatisfied.group(1)));
      }
    } catch (NumberFormatException e) {
      return null;
    }
    return null;
  }
}
