package dev.jsoci.fetcher.registry;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The content of a blob to push, opened again for each attempt so that a failed upload can be
 * retried.
 */
@FunctionalInterface
public interface BlobSource {
  /** Opens a new stream at the start of the content; the caller closes it. */
  InputStream newInputStream() throws IOException;

  static BlobSource of(byte[] content) {
    byte[] copy = content.clone();
    return () -> new ByteArrayInputStream(copy);
  }

  static BlobSource of(Path file) {
    return () -> Files.newInputStream(file);
  }
}
