package dev.jsoci.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The location of the registry host settings ({@code [registry]}), with the key that containerd's
 * CRI plugin uses.
 *
 * @param hostsDirectory the directory of containerd {@code hosts.toml} files, {@code
 *     <dir>/<host[:port]>/hosts.toml} ({@code config_path}); empty when {@code config_path = ""},
 *     which leaves every registry at its own origin
 */
public record RegistryConfig(Optional<Path> hostsDirectory) {

  /** containerd's usual hosts directory, the default of {@code config_path}. */
  public static final Path DEFAULT_HOSTS_DIRECTORY = Path.of("/etc/containerd/certs.d");

  public static final RegistryConfig DEFAULTS =
      new RegistryConfig(Optional.of(DEFAULT_HOSTS_DIRECTORY));

  public RegistryConfig {
    Objects.requireNonNull(hostsDirectory, "hostsDirectory");
  }
}
