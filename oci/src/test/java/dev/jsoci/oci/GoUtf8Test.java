package dev.jsoci.oci;

import static com.google.common.truth.Truth.assertWithMessage;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GoUtf8Test {

  private static byte[] bytes(int... values) {
    byte[] result = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      result[i] = (byte) values[i];
    }
    return result;
  }

  /** Each case follows the boundaries of Go's utf8.DecodeRune (RFC 3629 section 4). */
  @Test
  void decode_boundaries() {
    String r = "\ufffd";
    Map<byte[], String> cases = new LinkedHashMap<>();
    cases.put(bytes(0x41, 0x7f), "A\u007f");
    cases.put(bytes(0xc2, 0x80), "\u0080");
    cases.put(bytes(0xc1, 0xbf), r + r);
    cases.put(bytes(0xdf, 0xbf), "\u07ff");
    cases.put(bytes(0xe0, 0xa0, 0x80), "\u0800");
    cases.put(bytes(0xe0, 0x9f, 0xbf), r + r + r);
    cases.put(bytes(0xed, 0x9f, 0xbf), "\ud7ff");
    cases.put(bytes(0xed, 0xa0, 0x80), r + r + r);
    cases.put(bytes(0xef, 0xbf, 0xbf), "\uffff");
    cases.put(bytes(0xf0, 0x90, 0x80, 0x80), new String(Character.toChars(0x10000)));
    cases.put(bytes(0xf0, 0x8f, 0xbf, 0xbf), r + r + r + r);
    cases.put(bytes(0xf4, 0x8f, 0xbf, 0xbf), new String(Character.toChars(0x10ffff)));
    cases.put(bytes(0xf4, 0x90, 0x80, 0x80), r + r + r + r);
    cases.put(bytes(0xf5, 0x80), r + r);
    cases.put(bytes(0xe2, 0x82), r + r);
    cases.put(bytes(0xf0, 0x9f, 0x98), r + r + r);
    cases.put(bytes(0x80, 0x41), r + "A");

    for (Map.Entry<byte[], String> entry : cases.entrySet()) {
      assertWithMessage(java.util.Arrays.toString(entry.getKey()))
          .that(GoUtf8.decode(entry.getKey()))
          .isEqualTo(entry.getValue());
    }
  }

  @Test
  void replaceUnpairedSurrogates_keepsPairs() {
    String pair = new String(Character.toChars(0x1f600));
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("plain", "plain");
    cases.put(pair, pair);
    cases.put("a\ud800", "a\ufffd");
    cases.put("\udc00" + pair + "\ud800", "\ufffd" + pair + "\ufffd");
    cases.put("\ud800\ud800\udc00", "\ufffd\ud800\udc00");

    for (Map.Entry<String, String> entry : cases.entrySet()) {
      assertWithMessage(entry.getKey())
          .that(GoUtf8.replaceUnpairedSurrogates(entry.getKey()))
          .isEqualTo(entry.getValue());
    }
  }
}
