package dev.jsoci.cli;

import dev.jsoci.fs.fuse.FuseMount;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jsoci unmount}: ends a {@code jsoci mount} and removes every mount it made. */
@Command(
    name = "unmount",
    mixinStandardHelpOptions = true,
    versionProvider = JsociVersion.class,
    description = {
      "Unmount an image mounted by 'jsoci mount' at DIR: send SIGTERM to the mount process and"
          + " wait for it to exit, or, when that process is gone, unmount what it left and delete"
          + " its state directory."
    })
final class UnmountCommand implements Callable<Integer> {
  private static final Duration FUSE_UNMOUNT_TIMEOUT = Duration.ofSeconds(30);

  @Spec CommandSpec spec;

  @Option(
      names = "--state-dir",
      paramLabel = "DIR",
      description = "The --state-dir given to 'jsoci mount' (default: /run/jsoci/mount).")
  Path stateBase = MountState.DEFAULT_BASE;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      defaultValue = "60",
      description = "How long to wait for the mount process to exit (default: ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  @Parameters(index = "0", paramLabel = "DIR", description = "The directory given to jsoci mount.")
  Path mountPoint;

  @Override
  public Integer call() throws IOException {
    if (timeoutSeconds < 0) {
      throw new ParameterException(
          spec.commandLine(), "invalid --timeout " + timeoutSeconds + ": must be 0 or more");
    }
    MountState state = MountState.of(stateBase, mountPoint);
    if (!Files.isDirectory(state.directory())) {
      throw new IOException(
          state.mountPoint()
              + " is not mounted by jsoci mount (no state directory "
              + state.directory()
              + ")");
    }

    Optional<ProcessHandle> process = mountProcess(state);
    if (process.isPresent()) {
      stopProcess(process.get(), state);
    }
    // The process is gone; whatever it left behind is cleaned up here.
    cleanLeftovers(state);
    if (MountPoints.isMounted(state.mountPoint())) {
      throw new IOException(state.mountPoint() + " is still mounted after unmounting");
    }

    PrintWriter out = spec.commandLine().getOut();
    out.printf("unmounted %s%n", state.mountPoint());
    out.flush();
    return 0;
  }

  /**
   * Returns the live process recorded in the state directory. A recorded id now used by another
   * program (after a reboot or a reused id) does not count.
   */
  private static Optional<ProcessHandle> mountProcess(MountState state) throws IOException {
    OptionalLong pid = state.readPid();
    if (pid.isEmpty()) {
      return Optional.empty();
    }
    Optional<ProcessHandle> handle = ProcessHandle.of(pid.getAsLong());
    if (handle.isEmpty() || !handle.get().isAlive()) {
      return Optional.empty();
    }
    Path cmdline = Path.of("/proc", Long.toString(pid.getAsLong()), "cmdline");
    String text;
    try {
      text = new String(Files.readAllBytes(cmdline), StandardCharsets.UTF_8).replace('\0', ' ');
    } catch (IOException e) {
      return Optional.empty();
    }
    return text.contains("dev.jsoci.cli.Main") && text.contains(" mount ")
        ? handle
        : Optional.empty();
  }

  private void stopProcess(ProcessHandle process, MountState state) throws IOException {
    // ProcessHandle.destroy sends SIGTERM, which the mount process handles by unmounting.
    process.destroy();
    try {
      process.onExit().get(timeoutSeconds, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      // The mount process detaches a busy mount lazily and serves it until its files are closed.
      String busy =
          MountPoints.isMounted(state.mountPoint())
              ? ""
              : ": its mount point is detached already, and it serves the processes that still"
                  + " use files of the image until they let go of them; stop those processes or"
                  + " wait";
      throw new IOException(
          "mount process "
              + process.pid()
              + " of "
              + state.mountPoint()
              + " did not exit within "
              + timeoutSeconds
              + " s after SIGTERM"
              + busy);
    } catch (ExecutionException e) {
      throw new IOException("waiting for mount process " + process.pid() + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException(
          "interrupted while waiting for mount process " + process.pid());
    }
  }

  /** Unmounts the overlay, then the layers' FUSE mounts, then deletes the state directory. */
  private static void cleanLeftovers(MountState state) throws IOException {
    if (!Files.exists(state.directory())) {
      return;
    }
    if (MountPoints.isMounted(state.mountPoint())) {
      MountPoints.unmount(state.mountPoint());
    }
    List<Path> layers = MountPoints.under(state.layers());
    for (Path layer : layers) {
      FuseMount.unmountLeftover(layer, FUSE_UNMOUNT_TIMEOUT);
    }
    ImageMount.removeState(state);
  }
}
