package dev.jsoci.snapshotter.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.LayoutBase;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import org.slf4j.event.KeyValuePair;

/**
 * Writes a log event as one line of JSON, in the shape of logrus's JSON formatter that containerd's
 * snapshotters use:
 *
 * <pre>
 * {"time":"2026-01-02T15:04:05.123456789Z","level":"info","msg":"...","logger":"Snapshotter",
 *  "key":"...", ...,"stack":"..."}
 * </pre>
 *
 * <p>{@code time} is RFC 3339 in UTC with nine fractional digits. {@code level} is one of {@code
 * trace}, {@code debug}, {@code info}, {@code warning}, {@code error}. The key-value pairs of the
 * SLF4J event follow in order, and {@code stack} contains the stack trace of an attached exception.
 */
public final class JsonLayout extends LayoutBase<ILoggingEvent> {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS'Z'").withZone(ZoneOffset.UTC);

  @Override
  public String doLayout(ILoggingEvent event) {
    StringBuilder line = new StringBuilder(256);
    line.append('{');
    appendField(line, "time", TIME.format(event.getInstant()));
    line.append(',');
    appendField(line, "level", levelName(event.getLevel()));
    line.append(',');
    appendField(line, "msg", event.getFormattedMessage());
    line.append(',');
    appendField(line, "logger", simpleName(event.getLoggerName()));
    List<KeyValuePair> pairs = event.getKeyValuePairs();
    if (pairs != null) {
      for (KeyValuePair pair : pairs) {
        line.append(',');
        appendField(line, pair.key, String.valueOf(pair.value));
      }
    }
    IThrowableProxy throwable = event.getThrowableProxy();
    if (throwable != null) {
      line.append(',');
      appendField(line, "stack", ThrowableProxyUtil.asString(throwable));
    }
    line.append('}').append('\n');
    return line.toString();
  }

  @Override
  public String getContentType() {
    return "application/json";
  }

  static String levelName(Level level) {
    return switch (level.toInt()) {
      case Level.TRACE_INT -> "trace";
      case Level.DEBUG_INT -> "debug";
      case Level.INFO_INT -> "info";
      case Level.WARN_INT -> "warning";
      default -> "error";
    };
  }

  private static String simpleName(String loggerName) {
    return loggerName.substring(loggerName.lastIndexOf('.') + 1);
  }

  private static void appendField(StringBuilder line, String key, String value) {
    appendString(line, key);
    line.append(':');
    appendString(line, value);
  }

  /** Appends {@code value} as a JSON string (RFC 8259 section 7). */
  static void appendString(StringBuilder line, String value) {
    line.append('"');
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      switch (c) {
        case '"' -> line.append("\\\"");
        case '\\' -> line.append("\\\\");
        case '\n' -> line.append("\\n");
        case '\r' -> line.append("\\r");
        case '\t' -> line.append("\\t");
        default -> {
          if (c < 0x20) {
            line.append(String.format("\\u%04x", (int) c));
          } else {
            line.append(c);
          }
        }
      }
    }
    line.append('"');
  }
}
