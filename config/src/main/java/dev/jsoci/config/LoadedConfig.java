package dev.jsoci.config;

import java.util.List;
import java.util.Objects;

/**
 * A configuration read from a file, with the warnings found while reading it: unknown keys, and
 * soci-snapshotter keys that have no effect in jsoci. The caller logs the warnings.
 */
public record LoadedConfig(JsociConfig config, List<String> warnings) {
  public LoadedConfig {
    Objects.requireNonNull(config, "config");
    warnings = List.copyOf(warnings);
  }
}
