package dev.jsoci.fetcher.registry;

import java.io.IOException;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/** A containerd {@code hosts.toml} file that cannot be read or breaks the format's rules. */
public final class HostsConfigException extends IOException {
  private static final long serialVersionUID = 1L;

  private final Path file;

  HostsConfigException(Path file, String problem) {
    this(file, problem, null);
  }

  HostsConfigException(Path file, String problem, @Nullable Throwable cause) {
    super("invalid hosts file " + file + ": " + problem, cause);
    this.file = file;
  }

  /** Returns the file that is invalid. */
  public Path file() {
    return file;
  }
}
