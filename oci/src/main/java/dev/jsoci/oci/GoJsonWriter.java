package dev.jsoci.oci;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Writes compact JSON byte for byte as Go's {@code encoding/json} marshals it (Go 1.22 or later).
 *
 * <p>The writer inserts the commas between members and elements, and the caller decides which
 * members to write and in what order. Strings are escaped as Go's {@code encodeState.string} does
 * with HTML escaping on, the default of {@code json.Marshal}:
 *
 * <ul>
 *   <li>{@code "} and {@code \} as {@code \"} and {@code \\};
 *   <li>{@code \n}, {@code \r}, {@code \t}, and since Go 1.22 also {@code \b} and {@code \f}, as
 *       two-character escapes (Go 1.21 and older wrote <code>&#92;u0008</code> and <code>&#92;u000c
 *       </code>);
 *   <li>other characters below U+0020 as <code>&#92;u00XX</code> with lowercase hex;
 *   <li>{@code <}, {@code >} and {@code &} as <code>&#92;u003c</code>, <code>&#92;u003e</code> and
 *       <code>&#92;u0026</code>;
 *   <li>U+2028 and U+2029 as <code>&#92;u2028</code> and <code>&#92;u2029</code>;
 *   <li>text that is not valid UTF-8 as <code>&#92;ufffd</code>. In a Java string that is an
 *       unpaired surrogate;
 *   <li>everything else, DEL (U+007F) included, as raw UTF-8. Supplementary characters become their
 *       four UTF-8 bytes, never a pair of <code>&#92;u</code> surrogate escapes.
 * </ul>
 *
 * <p>A writer is single-use and not thread-safe.
 */
final class GoJsonWriter {
  private static final byte[] HEX_DIGITS = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  /** One entry per open object or array: whether nothing has been written into it yet. */
  private final Deque<Boolean> firstInContainer = new ArrayDeque<>();

  /** Whether a member name was just written, so the next value needs no comma. */
  private boolean afterName;

  GoJsonWriter beginObject() {
    beforeValue();
    out.write('{');
    firstInContainer.push(true);
    return this;
  }

  GoJsonWriter endObject() {
    firstInContainer.pop();
    out.write('}');
    return this;
  }

  GoJsonWriter beginArray() {
    beforeValue();
    out.write('[');
    firstInContainer.push(true);
    return this;
  }

  GoJsonWriter endArray() {
    firstInContainer.pop();
    out.write(']');
    return this;
  }

  /** Writes a member name and the colon; the next call writes its value. */
  GoJsonWriter name(String name) {
    beforeValue();
    writeQuoted(name);
    out.write(':');
    afterName = true;
    return this;
  }

  GoJsonWriter value(String value) {
    beforeValue();
    writeQuoted(value);
    return this;
  }

  GoJsonWriter value(long value) {
    beforeValue();
    writeAscii(Long.toString(value));
    return this;
  }

  byte[] toByteArray() {
    if (!firstInContainer.isEmpty()) {
      throw new IllegalStateException("objects or arrays still open: " + firstInContainer.size());
    }
    return out.toByteArray();
  }

  private void beforeValue() {
    if (afterName) {
      afterName = false;
      return;
    }
    if (firstInContainer.isEmpty()) {
      return;
    }
    if (firstInContainer.peek()) {
      firstInContainer.pop();
      firstInContainer.push(false);
    } else {
      out.write(',');
    }
  }

  private void writeQuoted(String text) {
    out.write('"');
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c < 0x80) {
        writeAsciiEscaped(c);
        i++;
      } else if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        writeUtf8(Character.toCodePoint(c, text.charAt(i + 1)));
        i += 2;
      } else if (Character.isSurrogate(c)) {
        writeAscii("\\ufffd");
        i++;
      } else if (c == '\u2028' || c == '\u2029') {
        writeAscii(c == '\u2028' ? "\\u2028" : "\\u2029");
        i++;
      } else {
        writeUtf8(c);
        i++;
      }
    }
    out.write('"');
  }

  private void writeAsciiEscaped(char c) {
    switch (c) {
      case '"':
        writeAscii("\\\"");
        return;
      case '\\':
        writeAscii("\\\\");
        return;
      case '\n':
        writeAscii("\\n");
        return;
      case '\r':
        writeAscii("\\r");
        return;
      case '\t':
        writeAscii("\\t");
        return;
      case '\b':
        writeAscii("\\b");
        return;
      case '\f':
        writeAscii("\\f");
        return;
      default:
        break;
    }
    if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      writeAscii("\\u00");
      out.write(HEX_DIGITS[c >> 4]);
      out.write(HEX_DIGITS[c & 0xf]);
      return;
    }
    out.write(c);
  }

  private void writeUtf8(int codePoint) {
    if (codePoint < 0x800) {
      out.write(0xc0 | (codePoint >> 6));
      out.write(0x80 | (codePoint & 0x3f));
    } else if (codePoint < 0x10000) {
      out.write(0xe0 | (codePoint >> 12));
      out.write(0x80 | ((codePoint >> 6) & 0x3f));
      out.write(0x80 | (codePoint & 0x3f));
    } else {
      out.write(0xf0 | (codePoint >> 18));
      out.write(0x80 | ((codePoint >> 12) & 0x3f));
      out.write(0x80 | ((codePoint >> 6) & 0x3f));
      out.write(0x80 | (codePoint & 0x3f));
    }
  }

  private void writeAscii(String text) {
    for (int i = 0; i < text.length(); i++) {
      out.write(text.charAt(i));
    }
  }
}
