package dev.jsoci.cli;

import static com.google.common.truth.Truth.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.util.ContextInitializer;
import ch.qos.logback.core.joran.spi.JoranException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class CliLoggingTest {
  /** Puts back the logging that the other tests of this JVM run with. */
  private static void restoreDefaultLogging() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.reset();
    try {
      new ContextInitializer(context).autoConfig();
    } catch (JoranException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void configure_printsKeyValuePairsAfterTheMessage() {
    PrintStream stderr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      CliLogging.configure();
      org.slf4j.Logger logger = LoggerFactory.getLogger("Example");

      logger.atWarn().addKeyValue("op", "read").addKeyValue("errno", "").log("fuse operation");
      logger.warn("no pairs");
    } finally {
      System.setErr(stderr);
      restoreDefaultLogging();
    }

    assertThat(captured.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "jsoci: WARN Example: fuse operation op=\"read\" errno=\"\"\n"
                + "jsoci: WARN Example: no pairs\n");
  }
}
