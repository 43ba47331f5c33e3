package dev.jsoci.config;

import java.time.Duration;
import java.util.Objects;

/**
 * FUSE mount settings ({@code [fuse]}): how long the kernel may cache attributes, entries and
 * failed lookups, and whether every FUSE operation is logged.
 *
 * <p>The three cache timeouts default to one hour, where soci-snapshotter uses one second: a
 * layer's contents never change while it is mounted, so longer caching only saves lookups.
 */
public record FuseConfig(
    Duration attrTimeout,
    Duration entryTimeout,
    Duration negativeTimeout,
    boolean logFuseOperations) {

  public static final FuseConfig DEFAULTS =
      new FuseConfig(Duration.ofHours(1), Duration.ofHours(1), Duration.ofHours(1), false);

  public FuseConfig {
    Objects.requireNonNull(attrTimeout, "attrTimeout");
    Objects.requireNonNull(entryTimeout, "entryTimeout");
    Objects.requireNonNull(negativeTimeout, "negativeTimeout");
  }
}
