package dev.jsoci.cli;

import dev.jsoci.fetcher.registry.RegistryException;
import java.io.FileNotFoundException;
import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/** The {@code jsoci} command line: builds and inspects SOCI indexes and reads remote images. */
@Command(
    name = "jsoci",
    mixinStandardHelpOptions = true,
    versionProvider = JsociVersion.class,
    description = "Build and inspect SOCI indexes (zTOCs) for lazily pulled container images.",
    subcommands = {
      ZtocCommand.class,
      ConvertCommand.class,
      IndexCommand.class,
      ImageCommand.class,
      MountCommand.class,
      UnmountCommand.class,
      RpullCommand.class
    })
public final class Main implements Runnable {
  /** Exit status of a command that failed on its input or environment. */
  static final int EXIT_FAILURE = 1;

  /** Exit status of a command line that could not be parsed. */
  static final int EXIT_USAGE = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    CliLogging.configure();
    System.exit(newCommandLine().execute(args));
  }

  /** Returns the configured command line; tests call {@code execute} on it. */
  static CommandLine newCommandLine() {
    CommandLine commandLine = new CommandLine(new Main());
    commandLine.setExecutionExceptionHandler(new FailureHandler());
    commandLine.setParameterExceptionHandler(new UsageHandler());
    return commandLine;
  }

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing command");
  }

  /** Prints a failure as one line on stderr: {@code jsoci: <what failed>}. */
  private static final class FailureHandler implements IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(
        Exception exception, CommandLine commandLine, ParseResult parseResult) {
      PrintWriter err = commandLine.getErr();
      err.println("jsoci: " + describe(exception));
      err.flush();
      return EXIT_FAILURE;
    }
  }

  /** Prints a command-line mistake and where to find the usage, on stderr. */
  private static final class UsageHandler implements IParameterExceptionHandler {
    @Override
    public int handleParseException(ParameterException exception, String[] args) {
      CommandLine commandLine = exception.getCommandLine();
      PrintWriter err = commandLine.getErr();
      err.println(
          "jsoci: "
              + exception.getMessage()
              + " (see '"
              + commandLine.getCommandSpec().qualifiedName()
              + " --help')");
      err.flush();
      return EXIT_USAGE;
    }
  }

  /**
   * Turns an exception into a message that names the failing value. A registry request that failed
   * on every host of the registry (mirrors, then the registry) carries the earlier hosts' failures
   * as suppressed exceptions, and they follow the last one's message.
   */
  static String describe(Exception exception) {
    String message = describeOne(exception);
    if (!(exception instanceof RegistryException)) {
      return message;
    }
    StringBuilder earlier = new StringBuilder();
    for (Throwable suppressed : exception.getSuppressed()) {
      if (suppressed instanceof RegistryException earlierFailure
          && earlierFailure.getMessage() != null) {
        earlier
            .append(earlier.length() == 0 ? " (tried before: " : "; ")
            .append(earlierFailure.getMessage());
      }
    }
    return earlier.length() == 0 ? message : message + earlier.append(')');
  }

  private static String describeOne(Exception exception) {
    if (exception instanceof NoSuchFileException) {
      return "file not found: " + exception.getMessage();
    }
    if (exception instanceof AccessDeniedException) {
      return "permission denied: " + exception.getMessage();
    }
    // These name only the file, which alone reads as no error at all.
    if (exception instanceof FileAlreadyExistsException) {
      return "already exists: " + exception.getMessage();
    }
    if (exception instanceof DirectoryNotEmptyException) {
      return "directory not empty: " + exception.getMessage();
    }
    if (exception instanceof FileNotFoundException || exception.getMessage() == null) {
      return exception.getClass().getSimpleName()
          + (exception.getMessage() == null ? "" : ": " + exception.getMessage());
    }
    return exception.getMessage();
  }
}
