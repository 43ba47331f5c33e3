package dev.jsoci.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import dev.jsoci.fetcher.registry.RegistryClient;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/**
 * Logging of the command line: plain text on stderr, so that stdout carries only a command's
 * output, at WARN unless {@code JSOCI_LOG_LEVEL} names another level (TRACE to ERROR, or OFF).
 */
final class CliLogging {
  static final String LEVEL_VARIABLE = "JSOCI_LOG_LEVEL";

  static final String NETTY_BOOTSTRAP_LOGGER = "io.grpc.netty.shaded.io.netty.bootstrap.Bootstrap";

  private CliLogging() {}

  static void configure() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();

    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    // Key-value pairs follow the message as key="value"; without any, nothing follows it.
    encoder.setPattern("jsoci: %level %logger{0}: %msg%replace( %kvp){'^ $', ''}%n");
    encoder.start();

    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(context);
    appender.setTarget("System.err");
    appender.setEncoder(encoder);
    appender.start();

    Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.addAppender(appender);
    String configured = System.getenv(LEVEL_VARIABLE);
    Level level =
        configured == null || configured.isBlank()
            ? Level.WARN
            : Level.toLevel(configured.strip().toUpperCase(Locale.ROOT), Level.WARN);
    root.setLevel(level);
    // A registry that does not respond makes a command wait through its retries. A line at each
    // retry shows that the command is not hung.
    if (level == Level.WARN) {
      context.getLogger(RegistryClient.RETRY_LOGGER).setLevel(Level.INFO);
    }

    // grpc-netty sets SO_KEEPALIVE on every client channel, and Netty warns once per connection
    // that a unix domain socket channel does not support it. The user cannot act on the warning.
    context.getLogger(NETTY_BOOTSTRAP_LOGGER).setLevel(Level.ERROR);
  }
}
