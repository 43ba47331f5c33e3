package dev.jsoci.config;

import java.time.Duration;
import java.util.Objects;

/**
 * FUSE mount settings ({@code [fuse]}): how long the kernel may cache attributes, entries and
 * failed lookups, and whether every FUSE operation is logged.
 */
public record FuseConfig(
    Duration attrTimeout,
    Duration entryTimeout,
    Duration negativeTimeout,
    boolean logFuseOperations) {

  public static final FuseConfig DEFAULTS =
      new FuseConfig(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(1), false);

  public FuseConfig {
    Objects.requireNonNull(attrTimeout, "attrTimeout");
    Objects.requireNonNull(entryTimeout, "entryTimeout");
    Objects.requireNonNull(negativeTimeout, "negativeTimeout");
  }
}
