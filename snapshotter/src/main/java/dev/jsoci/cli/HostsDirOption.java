package dev.jsoci.cli;

import dev.jsoci.fetcher.registry.RegistryOptions;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code --hosts-dir} option of the commands that talk to registries: where containerd's {@code
 * hosts.toml} files are, as {@code ctr --hosts-dir} and CRI's {@code config_path} take it.
 */
final class HostsDirOption {
  @Spec(Spec.Target.MIXEE)
  CommandSpec spec;

  @Option(
      names = "--hosts-dir",
      paramLabel = "DIR",
      description =
          "Read registry hosts (mirrors, CA and client certificates, headers, plain http) from"
              + " DIR/HOST[:PORT]/hosts.toml, as containerd does; \"\" reads none (default:"
              + " /etc/containerd/certs.d, or [registry] config_path of --config where the"
              + " command takes one).")
  @Nullable String argument;

  /** Returns whether {@code --hosts-dir} was given. */
  boolean isSet() {
    return argument != null;
  }

  /**
   * Returns the directory that {@code --hosts-dir} names, absolute and normalized, or null for
   * {@code ""}.
   *
   * @throws IllegalStateException if the option was not given
   * @throws ParameterException if the path is invalid, missing or not a directory
   */
  @Nullable Path directory() {
    if (argument == null) {
      throw new IllegalStateException("--hosts-dir was not given");
    }
    if (argument.isEmpty()) {
      return null;
    }
    Path path;
    try {
      path = Path.of(argument);
    } catch (InvalidPathException e) {
      throw new ParameterException(
          spec.commandLine(), "--hosts-dir " + argument + " is not a valid path");
    }
    if (!Files.isDirectory(path)) {
      throw new ParameterException(
          spec.commandLine(),
          "--hosts-dir "
              + argument
              + (Files.exists(path) ? " is not a directory" : " does not exist")
              + ": give the directory that holds HOST[:PORT]/hosts.toml, or \"\" for none");
    }
    return path.toAbsolutePath().normalize();
  }

  /**
   * Sets the builder's hosts directory to the one {@code --hosts-dir} names, when given.
   *
   * @throws ParameterException if the option names a path that is invalid, missing or not a
   *     directory
   */
  RegistryOptions.Builder applyTo(RegistryOptions.Builder builder) {
    return isSet() ? builder.hostsDirectory(directory()) : builder;
  }
}
