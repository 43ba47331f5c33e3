package dev.jsoci.fs.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the programs the tests set up layers and inspect mounts with. */
final class Commands {
  private Commands() {}

  /** The exit status and the combined standard output and error of one run. */
  record Result(int exitStatus, String output) {}

  /** Runs a command and returns its output; fails if it exits non-zero or runs over 2 minutes. */
  static String run(String... command) throws IOException, InterruptedException {
    Result result = runAllowingFailure(command);
    if (result.exitStatus() != 0) {
      throw new AssertionError(
          String.join(" ", command)
              + " exited with status "
              + result.exitStatus()
              + ":\n"
              + result.output());
    }
    return result.output();
  }

  /** Runs a command and returns its exit status and output. */
  static Result runAllowingFailure(String... command) throws IOException, InterruptedException {
    Path output = Files.createTempFile("jsoci-fs-command", ".out");
    try {
      Process process =
          new ProcessBuilder(List.of(command))
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      if (!process.waitFor(2, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        throw new AssertionError(String.join(" ", command) + " ran for over 2 minutes");
      }
      return new Result(
          process.exitValue(), new String(Files.readAllBytes(output), StandardCharsets.UTF_8));
    } finally {
      Files.deleteIfExists(output);
    }
  }
}
