package dev.jsoci.cli;

import picocli.CommandLine;

/** Gives the benchmark harness the configured command line, which is package-private. */
public final class BenchmarkAccess {
  private BenchmarkAccess() {}

  public static CommandLine newCommandLine() {
    return Main.newCommandLine();
  }
}
