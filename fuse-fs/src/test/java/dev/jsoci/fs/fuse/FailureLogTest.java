package dev.jsoci.fs.fuse;

import static com.google.common.truth.Truth.assertThat;

import ch.qos.logback.classic.Level;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class FailureLogTest {
  @Test
  void failed_warnsOncePerInterval() {
    AtomicLong nanos = new AtomicLong(1_000);
    FailureLog failures =
        new FailureLog(
            LoggerFactory.getLogger(FailureLogTest.class),
            "sha256:abc",
            Duration.ofSeconds(10),
            nanos::get);

    try (LogCapture log = new LogCapture(FailureLogTest.class)) {
      failures.failed("read", "/a", "timed out");
      nanos.addAndGet(Duration.ofSeconds(9).toNanos());
      failures.failed("read", "/b", "timed out");
      failures.failed("read", "/c", "timed out");
      nanos.addAndGet(Duration.ofSeconds(1).toNanos());
      failures.failed("read", "/d", "failed");

      assertThat(log.messages(Level.WARN))
          .containsExactly(
              "returning EIO: op=read path=/a layer=sha256:abc error=timed out suppressed=0",
              "returning EIO: op=read path=/d layer=sha256:abc error=failed suppressed=2")
          .inOrder();
      assertThat(log.messages(Level.DEBUG))
          .containsExactly(
              "returning EIO: op=read path=/b layer=sha256:abc error=timed out",
              "returning EIO: op=read path=/c layer=sha256:abc error=timed out")
          .inOrder();
    }
  }
}
