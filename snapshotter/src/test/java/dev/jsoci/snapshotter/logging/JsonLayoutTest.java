package dev.jsoci.snapshotter.logging;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

class JsonLayoutTest {
  private static LoggingEvent event(Level level, String message, Throwable throwable) {
    LoggerContext context = new LoggerContext();
    LoggingEvent event =
        new LoggingEvent(
            "test",
            context.getLogger("dev.jsoci.snapshotter.Snapshotter"),
            level,
            message,
            throwable,
            null);
    event.setInstant(Instant.parse("2026-01-02T15:04:05.000000123Z"));
    return event;
  }

  @Test
  void doLayout_writesOneJsonLine() {
    LoggingEvent event = event(Level.INFO, "mounted \"layer\"\n", null);
    event.setKeyValuePairs(
        List.of(
            new KeyValuePair("key", "k\\1"), new KeyValuePair("remote-snapshot-prepared", "true")));

    String line = new JsonLayout().doLayout(event);

    assertThat(line)
        .isEqualTo(
            "{\"time\":\"2026-01-02T15:04:05.000000123Z\",\"level\":\"info\","
                + "\"msg\":\"mounted \\\"layer\\\"\\n\",\"logger\":\"Snapshotter\","
                + "\"key\":\"k\\\\1\",\"remote-snapshot-prepared\":\"true\"}\n");
  }

  @Test
  void doLayout_warnIsWarningAndStackIsAttached() {
    String line =
        new JsonLayout().doLayout(event(Level.WARN, "failed", new IllegalStateException("boom")));

    assertThat(line).contains("\"level\":\"warning\"");
    assertThat(line).contains("\"stack\":\"java.lang.IllegalStateException: boom\\n");
    assertThat(line.indexOf('\n')).isEqualTo(line.length() - 1);
  }

  @Test
  void appendString_escapesControlCharacters() {
    StringBuilder text = new StringBuilder();

    JsonLayout.appendString(text, "a\u0001b\tc");

    assertThat(text.toString()).isEqualTo("\"a\\u0001b\\tc\"");
  }

  @Test
  void parseLevel_acceptsLogrusNames() {
    assertThat(DaemonLogging.parseLevel("warning")).isEqualTo(Level.WARN);
    assertThat(DaemonLogging.parseLevel("FATAL")).isEqualTo(Level.ERROR);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> DaemonLogging.parseLevel("loud"));
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "invalid log level \"loud\": expected trace, debug, info, warn, error, fatal or panic");
  }
}
