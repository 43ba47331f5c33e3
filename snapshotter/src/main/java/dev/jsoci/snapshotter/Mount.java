package dev.jsoci.snapshotter;

import java.util.List;
import java.util.Objects;

/**
 * One mount that containerd performs to use a snapshot, in the form of mount(8): a filesystem type,
 * a source and fstab-style options. The target is chosen by containerd.
 */
public record Mount(String type, String source, List<String> options) {
  public Mount {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(source, "source");
    options = List.copyOf(options);
  }
}
