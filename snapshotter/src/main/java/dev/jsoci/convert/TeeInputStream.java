package dev.jsoci.convert;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * Passes a stream through and writes every byte read, skipped bytes included, to an output stream.
 * Closing it closes the input but not the output.
 */
final class TeeInputStream extends InputStream {
  private final InputStream in;
  private final OutputStream copy;

  TeeInputStream(InputStream in, OutputStream copy) {
    this.in = in;
    this.copy = copy;
  }

  @Override
  public int read() throws IOException {
    int b = in.read();
    if (b >= 0) {
      copy.write(b);
    }
    return b;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    int n = in.read(buffer, offset, length);
    if (n > 0) {
      copy.write(buffer, offset, n);
    }
    return n;
  }

  @Override
  public int available() throws IOException {
    return in.available();
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
