package dev.jsoci.fetcher.registry;

import java.io.IOException;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;
import org.jspecify.annotations.Nullable;

/** Reads response bodies that must fit in memory, such as manifests and JSON documents. */
final class BoundedBody {
  private BoundedBody() {}

  /**
   * Returns the whole body, or null when it is longer than {@code limit} bytes; then at most {@code
   * limit + 8192} bytes were read. Does not close the body.
   */
  static byte @Nullable [] read(ResponseBody body, long limit) throws IOException {
    if (body.contentLength() > limit) {
      return null;
    }
    BufferedSource source = body.source();
    Buffer buffer = new Buffer();
    while (source.read(buffer, 8192) != -1) {
      if (buffer.size() > limit) {
        return null;
      }
    }
    return buffer.readByteArray();
  }
}
