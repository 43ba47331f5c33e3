package dev.jsoci.fs.fuse;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Unmounts FUSE mounts with libfuse's {@code fusermount} program, found on the {@code PATH}. */
final class Fusermount {
  private static final String PROGRAM = "fusermount";

  /** The result of an unmount. */
  enum Outcome {
    /** The mount is gone. */
    UNMOUNTED,
    /**
     * The mount was busy and is detached: it is gone from the namespace, and the FUSE session goes
     * on serving the files still open until the last one is closed.
     */
    DETACHED_LAZILY,
    /** Nothing was mounted there. */
    NOT_MOUNTED
  }

  /** The exit status of one run and what it printed on standard output and error. */
  record Result(int exitStatus, String output) {
    boolean succeeded() {
      return exitStatus == 0;
    }

    String describe() {
      return output.strip() + " (exit status " + exitStatus + ")";
    }
  }

  private Fusermount() {}

  /**
   * Unmounts {@code mountPoint}, or detaches it lazily when it is busy.
   *
   * @throws IOException if {@code fusermount} cannot run, times out, or fails on a mount point that
   *     is still mounted
   */
  static Outcome unmount(Path mountPoint, Duration timeout) throws IOException {
    Result result = run(timeout, "-u", mountPoint.toString());
    if (result.succeeded()) {
      return Outcome.UNMOUNTED;
    }
    // fusermount prints strerror(EBUSY), "Device or resource busy", when files are open.
    if (result.output().contains("busy")) {
      result = run(timeout, "-u", "-z", mountPoint.toString());
      if (result.succeeded()) {
        return Outcome.DETACHED_LAZILY;
      }
    }
    if (!MountTable.isMounted(mountPoint)) {
      return Outcome.NOT_MOUNTED;
    }
    throw new IOException("unmounting " + mountPoint + " failed: " + result.describe());
  }

  /** Runs {@code fusermount} with {@code arguments} and waits for it to exit. */
  static Result run(Duration timeout, String... arguments) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(PROGRAM);
    command.addAll(List.of(arguments));
    Process process;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException("cannot run " + PROGRAM + " (install libfuse 2's fuse package)", e);
    }
    try (InputStream in = process.getInputStream()) {
      process.getOutputStream().close();
      if (!process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        process.destroyForcibly();
        throw new IOException(String.join(" ", command) + " timed out after " + timeout);
      }
      return new Result(process.exitValue(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(String.join(" ", command) + " interrupted");
    }
  }
}
