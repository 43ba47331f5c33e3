package dev.jsoci.oci;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GoJsonWriterTest {

  private static byte[] quoted(String value) {
    return new GoJsonWriter().value(value).toByteArray();
  }

  private static String quotedText(String value) {
    return new String(quoted(value), UTF_8);
  }

  @Test
  void value_asciiEscapes() {
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("plain", "\"plain\"");
    cases.put("a\"b", "\"a\\\"b\"");
    cases.put("a\\b", "\"a\\\\b\"");
    cases.put("/", "\"/\"");
    cases.put("\n", "\"\\n\"");
    cases.put("\r", "\"\\r\"");
    cases.put("\t", "\"\\t\"");
    // Go 1.22 and later; older Go wrote six-character escapes for these two.
    cases.put("\b", "\"\\b\"");
    cases.put("\f", "\"\\f\"");
    cases.put("\u0000", "\"\\u0000\"");
    cases.put("\u0001", "\"\\u0001\"");
    cases.put("\u000b", "\"\\u000b\"");
    cases.put("\u001b", "\"\\u001b\"");
    cases.put("\u001f", "\"\\u001f\"");
    cases.put(" ", "\" \"");
    cases.put("\u007f", "\"\u007f\"");
    cases.put("<", "\"\\u003c\"");
    cases.put(">", "\"\\u003e\"");
    cases.put("&", "\"\\u0026\"");
    cases.put("<a href=\"x\">&</a>", "\"\\u003ca href=\\\"x\\\"\\u003e\\u0026\\u003c/a\\u003e\"");
    cases.put("'", "\"'\"");

    for (Map.Entry<String, String> entry : cases.entrySet()) {
      assertWithMessage("escaping of %s", entry.getValue())
          .that(quotedText(entry.getKey()))
          .isEqualTo(entry.getValue());
    }
  }

  @Test
  void value_lineAndParagraphSeparators_escaped() {
    assertThat(quotedText("a\u2028b\u2029c")).isEqualTo("\"a\\u2028b\\u2029c\"");
  }

  @Test
  void value_nonAscii_rawUtf8() {
    assertThat(quoted("é")).isEqualTo(new byte[] {'"', (byte) 0xc3, (byte) 0xa9, '"'});
    assertThat(quoted("\u20ac"))
        .isEqualTo(new byte[] {'"', (byte) 0xe2, (byte) 0x82, (byte) 0xac, '"'});
    assertThat(quoted("\ufffd"))
        .isEqualTo(new byte[] {'"', (byte) 0xef, (byte) 0xbf, (byte) 0xbd, '"'});
    assertThat(quoted("\u2027"))
        .isEqualTo(new byte[] {'"', (byte) 0xe2, (byte) 0x80, (byte) 0xa7, '"'});
  }

  @Test
  void value_supplementaryCharacter_fourUtf8Bytes() {
    String grinningFace = new String(Character.toChars(0x1f600));

    assertThat(quoted(grinningFace))
        .isEqualTo(new byte[] {'"', (byte) 0xf0, (byte) 0x9f, (byte) 0x98, (byte) 0x80, '"'});
    assertThat(quoted("a" + new String(Character.toChars(0x10ffff)) + "b"))
        .isEqualTo(
            new byte[] {'"', 'a', (byte) 0xf4, (byte) 0x8f, (byte) 0xbf, (byte) 0xbf, 'b', '"'});
  }

  /** A Java string cannot hold invalid UTF-8; its counterpart is an unpaired surrogate. */
  @Test
  void value_unpairedSurrogates_replacementEscape() {
    assertThat(quotedText("a\ud800b")).isEqualTo("\"a\\ufffdb\"");
    assertThat(quotedText("\udc00")).isEqualTo("\"\\ufffd\"");
    assertThat(quotedText("\ud83d")).isEqualTo("\"\\ufffd\"");
    assertThat(quotedText("\ude00\ud83d")).isEqualTo("\"\\ufffd\\ufffd\"");
  }

  @Test
  void structure_compactWithCommas() {
    GoJsonWriter writer = new GoJsonWriter();
    writer.beginObject();
    writer.name("a").value(1);
    writer.name("b").beginArray().value("x").value(-2).beginObject().endObject().endArray();
    writer.name("c").beginArray().endArray();
    writer.name("d").value(Long.MIN_VALUE);
    writer.endObject();

    assertThat(new String(writer.toByteArray(), UTF_8))
        .isEqualTo("{\"a\":1,\"b\":[\"x\",-2,{}],\"c\":[],\"d\":-9223372036854775808}");
  }

  @Test
  void name_escapedLikeValues() {
    byte[] json = new GoJsonWriter().beginObject().name("<k>").value("v").endObject().toByteArray();

    assertThat(new String(json, UTF_8)).isEqualTo("{\"\\u003ck\\u003e\":\"v\"}");
  }

  @Test
  void toByteArray_openContainer_rejected() {
    GoJsonWriter writer = new GoJsonWriter().beginObject();

    IllegalStateException e = assertThrows(IllegalStateException.class, writer::toByteArray);

    assertThat(e).hasMessageThat().isEqualTo("objects or arrays still open: 1");
  }
}
