package dev.jsoci.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs programs for the integration tests, each with a time limit. */
final class Processes {
  private static final long TIMEOUT_SECONDS = 120;

  private Processes() {}

  /** The exit status and output of a finished program. */
  record Result(int status, String out, String err) {
    /** Returns the last non-empty line of stdout. */
    String lastLine() {
      String[] lines = out.strip().split("\n");
      return lines[lines.length - 1];
    }
  }

  /** Returns whether the tests run as root, which containerd, FUSE and mounts need. */
  static boolean isRoot() throws IOException, InterruptedException {
    return run(List.of("id", "-u"), Path.of("/")).out().strip().equals("0");
  }

  /** Runs {@code command} in {@code directory}; fails unless it exits with status 0. */
  static Result run(List<String> command, Path directory) throws IOException, InterruptedException {
    Result result = start(command, directory);
    if (result.status() != 0) {
      throw new IOException(
          String.join(" ", command)
              + " exited with status "
              + result.status()
              + ": "
              + result.err()
              + result.out());
    }
    return result;
  }

  /** Runs {@code command} in {@code directory} and returns its status and output. */
  static Result start(List<String> command, Path directory)
      throws IOException, InterruptedException {
    Path out = Files.createTempFile("jsoci-it-out-", ".txt");
    Path err = Files.createTempFile("jsoci-it-err-", ".txt");
    try {
      Process process =
          new ProcessBuilder(command)
              .directory(directory.toFile())
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IOException(
            String.join(" ", command) + " did not finish within " + TIMEOUT_SECONDS + " s");
      }
      return new Result(
          process.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  /**
   * Runs the {@code jsoci} command line in a new JVM with this test's class path, as a user runs
   * {@code bin/jsoci}.
   */
  static Result jsoci(Path directory, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.jsoci.cli.Main");
    command.addAll(List.of(args));
    return start(command, directory);
  }
}
