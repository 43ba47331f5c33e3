package dev.jsoci.convert;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded hand-off of bytes from one writing thread to one reading thread, which lets a pulling
 * consumer (an HTTP upload that reads a request body) take bytes that a pushing producer (the layer
 * pass) writes.
 *
 * <p>At most {@code capacityChunks} chunks of {@code chunkBytes} wait between the two, so a slow
 * reader slows the writer down. Unlike {@link java.io.PipedInputStream}, each side may give up
 * without stalling the other: once the reader is closed, writes are dropped, so the producer's own
 * work goes on; once the writer aborts, reads fail.
 */
final class ChunkPipe {
  private static final byte[] END = new byte[0];
  private static final long POLL_MILLIS = 100;

  private final BlockingQueue<byte[]> chunks;
  private final int chunkBytes;
  private volatile boolean readerClosed;
  private volatile boolean writerAborted;

  ChunkPipe(int capacityChunks, int chunkBytes) {
    this.chunks = new ArrayBlockingQueue<>(capacityChunks);
    this.chunkBytes = chunkBytes;
  }

  /** Returns whether the reader was closed, so that later writes are dropped. */
  boolean readerClosed() {
    return readerClosed;
  }

  /**
   * Returns the writing side. {@link OutputStream#close()} marks the end of the content; call
   * {@link #abort()} instead to make the reader fail.
   */
  OutputStream newOutputStream() {
    return new Writer();
  }

  /** Returns the reading side; closing it drops all later writes. */
  InputStream newInputStream() {
    return new Reader();
  }

  /**
   * Drops all later writes, as closing the reader does; for a consumer that ends without opening or
   * closing the reader.
   */
  void closeReader() {
    readerClosed = true;
    chunks.clear();
  }

  /** Makes the reader fail with an {@link IOException} on its next read. */
  void abort() {
    writerAborted = true;
    chunks.clear();
  }

  private void hand(byte[] chunk) throws InterruptedIOException {
    try {
      // Each wait ends when the reader takes a chunk or gives up.
      while (!readerClosed && !chunks.offer(chunk, POLL_MILLIS, TimeUnit.MILLISECONDS)) {
        // The reader is still busy with earlier chunks.
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while handing bytes to an upload");
    }
  }

  private final class Writer extends OutputStream {
    private byte[] buffer = new byte[chunkBytes];
    private int filled;
    private boolean closed;

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] data, int offset, int length) throws IOException {
      while (length > 0 && !readerClosed) {
        int n = Math.min(length, buffer.length - filled);
        System.arraycopy(data, offset, buffer, filled, n);
        filled += n;
        offset += n;
        length -= n;
        if (filled == buffer.length) {
          hand(buffer);
          buffer = new byte[chunkBytes];
          filled = 0;
        }
      }
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      if (filled > 0) {
        byte[] last = new byte[filled];
        System.arraycopy(buffer, 0, last, 0, filled);
        hand(last);
      }
      hand(END);
    }
  }

  private final class Reader extends InputStream {
    private byte[] current = new byte[0];
    private int position;
    private boolean ended;

    @Override
    public int read() throws IOException {
      byte[] single = new byte[1];
      int n = read(single, 0, 1);
      return n < 0 ? -1 : single[0] & 0xff;
    }

    @Override
    public int read(byte[] data, int offset, int length) throws IOException {
      if (length == 0) {
        return 0;
      }
      while (position == current.length) {
        if (ended) {
          return -1;
        }
        byte[] next = take();
        if (next == END) {
          ended = true;
          return -1;
        }
        current = next;
        position = 0;
      }
      int n = Math.min(length, current.length - position);
      System.arraycopy(current, position, data, offset, n);
      position += n;
      return n;
    }

    private byte[] take() throws IOException {
      try {
        // Each wait ends when the writer hands a chunk or aborts.
        while (true) {
          if (writerAborted) {
            throw new IOException("the blob writer was closed before the content was complete");
          }
          byte[] next = chunks.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
          if (next != null) {
            return next;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for blob bytes");
      }
    }

    @Override
    public void close() {
      closeReader();
    }
  }
}
