package dev.jsoci.fs;

import org.jspecify.annotations.Nullable;

/**
 * Receives the operations served by a layer's filesystem and its mounts, for metrics.
 *
 * <p>Methods are called on libfuse's worker threads, often while a process waits for the result,
 * so they must be fast, thread-safe and must not throw.
 */
public interface FileSystemListener {
  /** A listener that ignores every event. */
  FileSystemListener NONE = new FileSystemListener() {};

  /**
   * Called when an operation returns to the kernel.
   *
   * @param operation the libfuse callback name, such as {@code getattr}, {@code read} or {@code
   *     readdir}
   * @param durationNanos the time the callback took
   * @param error the error returned, or null on success
   */
  default void operationCompleted(String operation, long durationNanos, @Nullable Errno error) {}

  /** Called when a layer's mount serves requests, with the time mounting took. */
  default void mounted(long durationNanos) {}

  /** Called when mounting a layer failed. */
  default void mountFailed() {}
}
