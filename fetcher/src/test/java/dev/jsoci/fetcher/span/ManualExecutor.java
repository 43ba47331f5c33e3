package dev.jsoci.fetcher.span;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;

/** An executor that queues tasks until a test runs them on its own thread. */
final class ManualExecutor implements Executor {
  private static final int MAX_TASKS_PER_RUN = 100_000;

  private final ArrayDeque<Runnable> queue = new ArrayDeque<>();

  @Override
  public synchronized void execute(Runnable task) {
    queue.add(task);
  }

  /** Runs queued tasks, and the tasks they queue, until none is left. */
  void runAll() {
    for (int i = 0; i < MAX_TASKS_PER_RUN; i++) {
      Runnable task;
      synchronized (this) {
        task = queue.poll();
      }
      if (task == null) {
        return;
      }
      task.run();
    }
    throw new AssertionError("tasks kept queueing more tasks after " + MAX_TASKS_PER_RUN);
  }

  synchronized int queuedCount() {
    return queue.size();
  }
}
