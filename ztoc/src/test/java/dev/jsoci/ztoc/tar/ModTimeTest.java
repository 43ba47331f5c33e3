package dev.jsoci.ztoc.tar;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModTimeTest {
  @ParameterizedTest
  @CsvSource({
    "1700000000, 0, 2023-11-14T22:13:20Z",
    "1700000000, 1, 2023-11-14T22:13:20.000000001Z",
    "1700000000, 120000000, 2023-11-14T22:13:20.12Z",
    "0, -1, 1969-12-31T23:59:59.999999999Z",
    "-1, -500000000, 1969-12-31T23:59:58.5Z",
    "951782400, 0, 2000-02-29T00:00:00Z",
    "-62135596800, 0, 0001-01-01T00:00:00Z",
    "-62167219200, 0, 0000-01-01T00:00:00Z",
    "-62162035201, 0, 0000-02-29T23:59:59Z",
    "253402300799, 999999999, 9999-12-31T23:59:59.999999999Z",
  })
  void toRfc3339_yearsInRange(long seconds, long nanos, String expected) {
    assertThat(new ModTime(seconds, nanos).toRfc3339()).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({
    "253402300800, 0",
    "-62167219201, 0",
    "-62167219200, -1",
    "9223372036854775807, 999999999",
    "-9223372036854775808, 0",
    "-9223372036854775808, -1",
  })
  void toRfc3339_yearsOutOfRange_isEmpty(long seconds, long nanos) {
    assertThat(new ModTime(seconds, nanos).toRfc3339()).isEmpty();
  }

  @Test
  void constructor_nanosOutOfRange_isRejected() {
    assertThrows(IllegalArgumentException.class, () -> new ModTime(0, 1_000_000_000));
    assertThrows(IllegalArgumentException.class, () -> new ModTime(0, -1_000_000_000));
  }
}
