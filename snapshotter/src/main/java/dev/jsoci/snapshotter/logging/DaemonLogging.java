package dev.jsoci.snapshotter.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import dev.jsoci.fetcher.registry.RegistryClient;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/** Sends all logging of the daemon's JVM to stdout as JSON lines, replacing any other setup. */
public final class DaemonLogging {
  private DaemonLogging() {}

  /**
   * Configures logback: one console appender on stdout with {@link JsonLayout}, at {@code level}
   * for jsoci's loggers and at INFO or above for libraries.
   */
  public static void configure(Level level) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();

    JsonLayout layout = new JsonLayout();
    layout.setContext(context);
    layout.start();
    LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
    encoder.setContext(context);
    encoder.setLayout(layout);
    encoder.setCharset(StandardCharsets.UTF_8);
    encoder.start();
    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(context);
    appender.setName("stdout");
    appender.setEncoder(encoder);
    appender.start();

    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.addAppender(appender);
    root.setLevel(level.isGreaterOrEqual(Level.INFO) ? level : Level.INFO);
    context.getLogger("dev.jsoci").setLevel(level);
    // A registry outage retries every request, so those lines show only from --log-level debug on.
    context
        .getLogger(RegistryClient.RETRY_LOGGER)
        .setLevel(level.isGreaterOrEqual(Level.INFO) ? Level.WARN : level);
    // grpc-java sets SO_KEEPALIVE on every accepted connection. Unix sockets have no such
    // option, so Netty would warn about it once per connection.
    context.getLogger("io.grpc.netty.shaded.io.netty.bootstrap").setLevel(Level.ERROR);
  }

  /** Turns all logging off, for the client modes that report on their own. */
  public static void silence() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(Level.OFF);
  }

  /**
   * Parses a log level name: {@code trace}, {@code debug}, {@code info}, {@code warn} or {@code
   * warning}, {@code error}; {@code fatal} and {@code panic} (logrus's levels) mean {@code error}.
   *
   * @throws IllegalArgumentException naming the value when it is not one of these
   */
  public static Level parseLevel(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "trace" -> Level.TRACE;
      case "debug" -> Level.DEBUG;
      case "info" -> Level.INFO;
      case "warn", "warning" -> Level.WARN;
      case "error", "fatal", "panic" -> Level.ERROR;
      default ->
          throw new IllegalArgumentException(
              "invalid log level \""
                  + name
                  + "\": expected trace, debug, info, warn, error, fatal or panic");
    };
  }
}
