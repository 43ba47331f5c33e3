package dev.jsoci.fetcher.registry;

import java.util.Locale;
import org.jspecify.annotations.Nullable;

/** An operation a registry host may be used for, as containerd's {@code hosts.toml} names it. */
enum Capability {
  /** Fetching content by digest: blobs, and manifests named by digest. */
  PULL,
  /** Resolving a tag to a manifest digest; a mirror should be trusted before it gets this. */
  RESOLVE,
  /** Uploading blobs and manifests. */
  PUSH;

  /** Returns the capability named {@code name} in {@code hosts.toml}, or null if unknown. */
  static @Nullable Capability parse(String name) {
    switch (name) {
      case "pull":
        return PULL;
      case "resolve":
        return RESOLVE;
      case "push":
        return PUSH;
      default:
        return null;
    }
  }

  String tomlName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
