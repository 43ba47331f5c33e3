package dev.jsoci.fetcher.registry;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A blob stream that, when its connection fails, opens the blob again at the current position with
 * a range request and continues, up to a number of times.
 *
 * <p>A body that ends before {@code size} bytes counts as a connection failure. Failures that are
 * {@link RegistryException}s (a status or a bad {@code Content-Range}) end the stream at once. Not
 * thread-safe, and the caller closes it.
 */
final class ResumingBlobStream extends InputStream {
  private static final Logger logger = LoggerFactory.getLogger(ResumingBlobStream.class);

  /** Opens the blob positioned at {@code position}. */
  @FunctionalInterface
  interface Opener {
    InputStream openAt(long position) throws IOException;
  }

  /** Waits before resume number {@code attempt} (1 for the first). */
  @FunctionalInterface
  interface Pause {
    void before(int attempt) throws IOException;
  }

  private final Opener opener;
  private final long size;
  private final int maxResumes;
  private final Pause pause;
  private final String what;
  private @Nullable InputStream current;
  private long position;
  private int resumes;
  private boolean closed;

  ResumingBlobStream(Opener opener, long size, int maxResumes, Pause pause, String what) {
    this.opener = opener;
    this.size = size;
    this.maxResumes = maxResumes;
    this.pause = pause;
    this.what = what;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int read = read(one, 0, 1);
    return read < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    if (closed) {
      throw new IOException(what + ": stream closed");
    }
    if (length == 0) {
      return 0;
    }
    while (true) {
      try {
        InputStream in = current;
        if (in == null) {
          in = opener.openAt(position);
          current = in;
        }
        int read = in.read(buffer, offset, length);
        if (read < 0 && position < size) {
          throw new EOFException("connection closed after " + position + " of " + size + " bytes");
        }
        if (read > 0) {
          position += read;
        }
        return read;
      } catch (RegistryException | InterruptedIOException e) {
        throw e;
      } catch (IOException e) {
        closeCurrent();
        if (resumes >= maxResumes) {
          throw new RegistryException(
              what
                  + ": reading failed at byte "
                  + position
                  + " of "
                  + size
                  + " after "
                  + (resumes + 1)
                  + (resumes == 0 ? " attempt: " : " attempts: ")
                  + e,
              e);
        }
        resumes++;
        logger.debug(
            "resuming blob read layer={} position={} attempt={} error={}",
            what,
            position,
            resumes,
            e.toString());
        pause.before(resumes);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    closeCurrent();
  }

  private void closeCurrent() {
    InputStream in = current;
    current = null;
    if (in != null) {
      try {
        in.close();
      } catch (IOException e) {
        // The connection is already broken or done, so nothing is left to release.
      }
    }
  }
}
