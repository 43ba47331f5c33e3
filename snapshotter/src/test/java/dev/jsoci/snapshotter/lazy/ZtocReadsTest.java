package dev.jsoci.snapshotter.lazy;

import static com.google.common.truth.Truth.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ZtocReadsTest {

  @Test
  void awaitNone_noReads_returnsAtOnce() throws InterruptedException {
    assertThat(new ZtocReads().awaitNone(Duration.ZERO)).isTrue();
  }

  @Test
  void awaitNone_readInFlight_timesOut() throws InterruptedException {
    ZtocReads reads = new ZtocReads();

    try (ZtocReads.Read read = reads.begin()) {
      assertThat(reads.awaitNone(Duration.ofMillis(20))).isFalse();
    }

    assertThat(reads.awaitNone(Duration.ZERO)).isTrue();
  }

  @Test
  void awaitNone_wakesWhenTheLastReadEnds() throws Exception {
    ZtocReads reads = new ZtocReads();
    ZtocReads.Read first = reads.begin();
    ZtocReads.Read second = reads.begin();
    CompletableFuture<Boolean> waiter =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return reads.awaitNone(Duration.ofSeconds(30));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });

    first.close();
    // Closing a read twice counts it once: the second read keeps the waiter waiting.
    first.close();
    Thread.sleep(50);
    assertThat(waiter.isDone()).isFalse();
    second.close();

    assertThat(waiter.get(30, TimeUnit.SECONDS)).isTrue();
  }
}
