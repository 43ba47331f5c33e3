package dev.jsoci.fetcher.span;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link BlobRangeSource} over a byte array that records every request and can change or fail
 * chosen ones, for tests.
 */
final class RecordingSource implements BlobRangeSource {
  /** One request: {@code [offset, offset + length)} of the blob. */
  record Request(long offset, int length) {
    long end() {
      return offset + length;
    }

    boolean covers(long position) {
      return offset <= position && position < end();
    }
  }

  /** Decides what one request returns; may throw to fail it, or block. */
  @FunctionalInterface
  interface Fault {
    byte[] apply(Request request, byte[] bytes) throws IOException, InterruptedException;
  }

  private final BlobRangeSource blob;
  private final List<Request> requests = new ArrayList<>();
  private volatile Fault fault = (request, bytes) -> bytes;

  RecordingSource(byte[] blob) {
    this.blob = BlobRangeSource.of(blob);
  }

  void fault(Fault fault) {
    this.fault = fault;
  }

  @Override
  public byte[] read(long offset, int length) throws IOException {
    Request request = new Request(offset, length);
    synchronized (this) {
      requests.add(request);
    }
    try {
      return fault.apply(request, blob.read(offset, length));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted in a test fault");
    }
  }

  synchronized List<Request> requests() {
    return List.copyOf(requests);
  }

  synchronized int requestCount() {
    return requests.size();
  }

  /** Returns the number of requests whose range starts at {@code offset}. */
  synchronized long requestsAt(long offset) {
    return requests.stream().filter(r -> r.offset() == offset).count();
  }
}
