package dev.jsoci.snapshotter.lazy;

import dev.jsoci.fetcher.span.SpanManager;
import dev.jsoci.fs.ContentReader;
import java.io.IOException;
import java.nio.ByteBuffer;

/** A layer's tar stream for its filesystem, read through the layer's span manager. */
final class SpanContentReader implements ContentReader {
  private final SpanManager spans;

  SpanContentReader(SpanManager spans) {
    this.spans = spans;
  }

  @Override
  public int read(long uncompressedOffset, ByteBuffer destination) throws IOException {
    return spans.read(uncompressedOffset, destination);
  }

  @Override
  public int readIfAtHand(long uncompressedOffset, ByteBuffer destination) throws IOException {
    int count = spans.readIfInMemory(uncompressedOffset, destination);
    return count == SpanManager.NOT_IN_MEMORY ? NOT_AT_HAND : count;
  }
}
