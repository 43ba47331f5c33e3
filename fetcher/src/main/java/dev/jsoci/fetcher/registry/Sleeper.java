package dev.jsoci.fetcher.registry;

import java.time.Duration;

/** Waits between retries; tests pass a fake that advances a fake clock instead of sleeping. */
@FunctionalInterface
public interface Sleeper {
  /** The sleeper that blocks the calling thread with {@link Thread#sleep(long)}. */
  Sleeper SYSTEM = duration -> Thread.sleep(duration.toMillis());

  /**
   * Blocks for {@code duration}.
   *
   * @throws InterruptedException if the thread is interrupted while waiting
   */
  void sleep(Duration duration) throws InterruptedException;
}
