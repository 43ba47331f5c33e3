package dev.jsoci.snapshotter.lazy;

import dev.jsoci.fetcher.span.SpanManager;
import dev.jsoci.fs.fuse.FuseMount;
import dev.jsoci.oci.Digest;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A layer mounted lazily through FUSE. Closing it unmounts the filesystem, then releases the
 * layer's spans, which stops its background fetching.
 */
public final class MountedLayer implements AutoCloseable {
  private final Digest layer;
  private final FuseMount mount;
  private final SpanManager spans;

  MountedLayer(Digest layer, FuseMount mount, SpanManager spans) {
    this.layer = layer;
    this.mount = mount;
    this.spans = spans;
  }

  public Digest layer() {
    return layer;
  }

  public Path mountPoint() {
    return mount.mountPoint();
  }

  /** Returns the span manager that serves the layer's reads. */
  public SpanManager spans() {
    return spans;
  }

  /**
   * Unmounts the layer and releases its spans; the spans are released even when the unmount
   * fails.
   *
   * @throws IOException if the mount stays in place
   */
  @Override
  public void close() throws IOException {
    try {
      mount.close();
    } finally {
      spans.close();
    }
  }
}
