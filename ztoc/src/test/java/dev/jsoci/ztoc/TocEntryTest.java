package dev.jsoci.ztoc;

import static com.google.common.truth.Truth.assertWithMessage;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import org.junit.jupiter.api.Test;

class TocEntryTest {
  private static TocEntry entryWithTime(String modTime) {
    return new TocEntry(
        ByteString.utf8("a"),
        EntryType.REGULAR,
        512,
        0,
        ByteString.EMPTY,
        0644,
        0,
        0,
        ByteString.EMPTY,
        ByteString.EMPTY,
        modTime,
        0,
        0,
        List.of());
  }

  /** Parses {@code text} with {@link OffsetDateTime#parse} alone, or returns the zero time. */
  private static Instant parsedByJavaTime(String text) {
    try {
      return OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeParseException e) {
      return Instant.parse(TocEntry.ZERO_TIME);
    }
  }

  @Test
  void modInstant_agreesWithJavaTime() {
    List<String> texts =
        List.of(
            "2024-01-02T03:04:05Z",
            "0001-01-01T00:00:00Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
            "2024-01-02T03:04:05.1Z",
            "2024-01-02T03:04:05.123456Z",
            "2024-01-02T03:04:05.1234567891Z",
            "2024-01-02T03:04:05.Z",
            "2024-01-02T03:04:05+05:30",
            "2024-01-02T03:04:05.5-08:00",
            "2024-01-02T03:04:05-00:00",
            "2024-01-02T03:04:05+18:00",
            "2024-01-02T03:04:05+19:00",
            "2024-01-02T03:04:05+05:60",
            "2024-01-02T03:04:05+0530",
            "2024-01-02T03:04:05+05:30:15",
            "2024-01-02t03:04:05z",
            "2024-02-29T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-02T24:00:00Z",
            "2024-01-02T23:60:00Z",
            "2024-01-02T23:59:60Z",
            "2024-01-02 03:04:05Z",
            "2024-01-02T03:04:05",
            "2024-1-02T03:04:05Z",
            "+2024-01-02T03:04:05Z",
            "12024-01-02T03:04:05Z",
            "2024-01-02T03:04:05Z ",
            "2O24-01-02T03:04:05Z",
            "not a time at all!!!");

    for (String text : texts) {
      assertWithMessage("modTime \"%s\"", text)
          .that(entryWithTime(text).modInstant())
          .isEqualTo(parsedByJavaTime(text));
    }
  }

  @Test
  void modInstant_emptyText_isZeroTime() {
    assertWithMessage("empty modTime")
        .that(entryWithTime("").modInstant())
        .isEqualTo(Instant.parse("0001-01-01T00:00:00Z"));
  }
}
