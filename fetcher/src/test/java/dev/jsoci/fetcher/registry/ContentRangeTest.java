package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;

import org.junit.jupiter.api.Test;

/** Parsing Content-Range (RFC 9110 section 14.4). */
class ContentRangeTest {
  @Test
  void parse_satisfiedForms() {
    assertThat(ContentRange.parse("bytes 0-9/100")).isEqualTo(new ContentRange(0, 9, 100));
    assertThat(ContentRange.parse("bytes 5-5/*")).isEqualTo(new ContentRange(5, 5, -1));
    assertThat(ContentRange.parse(" bytes  10-19/20 ")).isEqualTo(new ContentRange(10, 19, 20));
  }

  @Test
  void parse_unsatisfiedForm() {
    assertThat(ContentRange.parse("bytes */1000")).isEqualTo(new ContentRange(-1, -1, 1000));
  }

  @Test
  void parse_invalid() {
    assertThat(ContentRange.parse(null)).isNull();
    assertThat(ContentRange.parse("bytes 9-0/100")).isNull();
    assertThat(ContentRange.parse("bytes 0-100/100")).isNull();
    assertThat(ContentRange.parse("items 0-9/100")).isNull();
    assertThat(ContentRange.parse("bytes 0-99999999999999999999/*")).isNull();
  }
}
