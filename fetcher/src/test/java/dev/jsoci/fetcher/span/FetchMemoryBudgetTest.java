package dev.jsoci.fetcher.span;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.InterruptedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FetchMemoryBudgetTest {
  private final ExecutorService threads = Executors.newCachedThreadPool();

  @AfterEach
  void stopThreads() throws InterruptedException {
    threads.shutdownNow();
    assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void acquire_roundsUpToKibibytes() throws Exception {
    FetchMemoryBudget budget = new FetchMemoryBudget(8 << 10);

    try (FetchMemoryBudget.Reservation reserved = budget.acquire(1025)) {
      assertThat(budget.availableBytes()).isEqualTo(6 << 10);
    }
    assertThat(budget.availableBytes()).isEqualTo(8 << 10);
  }

  @Test
  void acquire_moreThanBudget_takesAllOfIt() throws Exception {
    FetchMemoryBudget budget = new FetchMemoryBudget(8 << 10);

    try (FetchMemoryBudget.Reservation reserved = budget.acquire(1L << 40)) {
      assertThat(budget.availableBytes()).isEqualTo(0);
    }
    assertThat(budget.availableBytes()).isEqualTo(budget.totalBytes());
  }

  @Test
  void acquire_whileFull_waitsForRelease() throws Exception {
    FetchMemoryBudget budget = new FetchMemoryBudget(8 << 10);
    FetchMemoryBudget.Reservation first = budget.acquire(8 << 10);
    CompletableFuture<Void> waiting = new CompletableFuture<>();

    Future<?> second =
        threads.submit(
            () -> {
              waiting.complete(null);
              try (FetchMemoryBudget.Reservation reserved = budget.acquire(4 << 10)) {
                return budget.availableBytes();
              }
            });
    waiting.get(10, TimeUnit.SECONDS);
    while (!budget.hasWaiters()) {
      Thread.onSpinWait();
    }
    assertThat(second.isDone()).isFalse();

    first.close();
    assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(4L << 10);
    assertThat(budget.availableBytes()).isEqualTo(8 << 10);
  }

  @Test
  void acquireForRead_withRoom_takesFromBudget() throws Exception {
    FetchMemoryBudget budget = new FetchMemoryBudget(8 << 10);

    try (FetchMemoryBudget.Reservation reserved = budget.acquireForRead(3 << 10)) {
      assertThat(budget.availableBytes()).isEqualTo(5 << 10);
      assertThat(budget.availableReserveBytes()).isEqualTo(4 << 10);
    }
    assertThat(budget.availableBytes()).isEqualTo(8 << 10);
  }

  @Test
  void acquireForRead_budgetSpent_usesReserve() throws Exception {
    FetchMemoryBudget budget = new FetchMemoryBudget(8 << 10);

    try (FetchMemoryBudget.Reservation full = budget.acquire(8 << 10);
        FetchMemoryBudget.Reservation read = budget.acquireForRead(3 << 10)) {
      assertThat(budget.availableReserveBytes()).isEqualTo(1 << 10);
    }
    assertThat(budget.availableBytes()).isEqualTo(8 << 10);
    assertThat(budget.availableReserveBytes()).isEqualTo(4 << 10);
  }

  @Test
  void acquireForRead_goesBeforeWaitingWork() throws Exception {
    FetchMemoryBudget budget = new FetchMemoryBudget(8 << 10);
    FetchMemoryBudget.Reservation prefetch = budget.acquire(6 << 10);
    Future<?> readahead =
        threads.submit(
            () -> {
              try (FetchMemoryBudget.Reservation reserved = budget.acquire(4 << 10)) {
                return null;
              }
            });
    while (!budget.hasWaiters()) {
      Thread.onSpinWait();
    }

    try (FetchMemoryBudget.Reservation read = budget.acquireForRead(2 << 10)) {
      assertThat(budget.availableBytes()).isEqualTo(0);
      assertThat(budget.availableReserveBytes()).isEqualTo(4 << 10);
      assertThat(readahead.isDone()).isFalse();
    }
    prefetch.close();
    readahead.get(10, TimeUnit.SECONDS);
    assertThat(budget.availableBytes()).isEqualTo(8 << 10);
  }

  @Test
  void acquireForRead_beyondReserve_waitsForBudget() throws Exception {
    FetchMemoryBudget budget = new FetchMemoryBudget(8 << 10);
    FetchMemoryBudget.Reservation full = budget.acquire(8 << 10);

    Future<Long> read =
        threads.submit(
            () -> {
              try (FetchMemoryBudget.Reservation reserved = budget.acquireForRead(5 << 10)) {
                return budget.availableBytes();
              }
            });
    while (!budget.hasWaiters()) {
      Thread.onSpinWait();
    }
    assertThat(budget.availableReserveBytes()).isEqualTo(4 << 10);

    full.close();
    assertThat(read.get(10, TimeUnit.SECONDS)).isEqualTo(3L << 10);
  }

  @Test
  void close_twice_releasesOnce() throws Exception {
    FetchMemoryBudget budget = new FetchMemoryBudget(8 << 10);
    FetchMemoryBudget.Reservation reserved = budget.acquire(2 << 10);

    reserved.close();
    reserved.close();

    assertThat(budget.availableBytes()).isEqualTo(8 << 10);
  }

  @Test
  void acquire_interrupted_throwsAndKeepsInterrupt() throws Exception {
    FetchMemoryBudget budget = new FetchMemoryBudget(8 << 10);
    FetchMemoryBudget.Reservation full = budget.acquire(8 << 10);

    Thread.currentThread().interrupt();
    try {
      assertThrows(InterruptedIOException.class, () -> budget.acquire(1));
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
      full.close();
    }
  }

  @Test
  void constructor_lessThanKibibyte_isRejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new FetchMemoryBudget(1023));

    assertThat(e).hasMessageThat().contains("1023");
  }
}
