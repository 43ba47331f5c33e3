package dev.jsoci.fetcher.span;

import com.github.benmanes.caffeine.cache.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler on a {@link FakeTicker}: tasks become due when a test advances the ticker past their
 * time, and then go to their executor.
 */
final class FakeScheduler implements Scheduler {
  private record Task(long dueNanos, Executor executor, Runnable command) {}

  private static final int MAX_STEPS = 100_000;

  private final FakeTicker ticker;
  private final List<Task> tasks = new ArrayList<>();

  FakeScheduler(FakeTicker ticker) {
    this.ticker = ticker;
  }

  @Override
  public synchronized Future<?> schedule(
      Executor executor, Runnable command, long delay, TimeUnit unit) {
    tasks.add(new Task(ticker.read() + unit.toNanos(delay), executor, command));
    return new CompletableFuture<Void>();
  }

  /** Advances the ticker and hands every task now due to its executor, earliest first. */
  void advance(Duration duration) {
    advance(duration, () -> {});
  }

  /**
   * Advances the ticker to each due time in turn, up to {@code duration} from now: at each, hands
   * the task due to its executor and runs {@code drain}, so tasks run exactly on time.
   */
  void advance(Duration duration, Runnable drain) {
    long target = ticker.read() + duration.toNanos();
    for (int step = 0; step < MAX_STEPS; step++) {
      Task next;
      synchronized (this) {
        next =
            tasks.stream()
                .filter(task -> task.dueNanos() <= target)
                .min(Comparator.comparingLong(Task::dueNanos))
                .orElse(null);
        if (next != null) {
          tasks.remove(next);
        }
      }
      if (next == null) {
        ticker.set(target);
        drain.run();
        return;
      }
      ticker.set(Math.max(ticker.read(), next.dueNanos()));
      next.executor().execute(next.command());
      drain.run();
    }
    throw new AssertionError("tasks kept scheduling tasks after " + MAX_STEPS + " steps");
  }

  synchronized int pendingCount() {
    return tasks.size();
  }
}
