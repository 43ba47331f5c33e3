package dev.jsoci.fetcher.registry;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.List;
import java.util.OptionalLong;
import okhttp3.Request;
import okhttp3.Response;
import okio.BufferedSource;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads blobs: byte ranges, whole blobs into memory, and whole blobs as verified streams.
 *
 * <h2>Where a read goes</h2>
 *
 * The first read of a blob tries the hosts with the {@code pull} capability in order. The host that
 * responded, and the redirect target when it sent the client to another host, are remembered in
 * {@link BlobLocations}, and later reads go there directly, without credentials when it is a
 * redirect target. When that location fails, it is forgotten and the read goes through the registry
 * hosts once more, which also renews an expired signed URL.
 *
 * <h2>Ranges</h2>
 *
 * Each read requests one range, {@code Range: bytes=<first>-<last>}. A {@code 206} must carry a
 * {@code Content-Range} with exactly that first and last byte, and the blob size when both sides
 * know it. A {@code 200} means the server ignored the range: its body is read and discarded up to
 * the offset, but only when the offset is at most {@code maxRangeSkipBytes}. A {@code 416} becomes
 * a {@link RangeNotSatisfiableException} with the size the server reported.
 */
final class BlobReader {
  private static final Logger logger = LoggerFactory.getLogger(BlobReader.class);

  /** The largest blob read whole into an array allocated before its bytes arrive. */
  static final long PREALLOCATED_BLOB_BYTES = 64L << 20;

  private final RegistryOptions options;
  private final HostsDirectory hosts;
  private final Transport transport;
  private final BlobLocations locations;
  private final RetryPolicy retryPolicy;
  private final RetrySettings layerDataRetries;

  /** Reads a successful response of a blob GET into a result. */
  @FunctionalInterface
  private interface BodyReader<T> {
    T read(Response response, String what) throws IOException;
  }

  BlobReader(
      RegistryOptions options, HostsDirectory hosts, Transport transport, BlobLocations locations) {
    this.options = options;
    this.hosts = hosts;
    this.transport = transport;
    this.locations = locations;
    this.retryPolicy = new RetryPolicy(options);
    this.layerDataRetries = options.retriesOfLayerData();
  }

  /**
   * Reads {@code length} bytes at {@code offset} of the blob.
   *
   * @param blobSize the blob size when known, to check the server's {@code Content-Range}; -1 when
   *     unknown
   */
  byte[] readRange(ImageRef repository, Digest digest, long offset, int length, long blobSize)
      throws IOException {
    if (offset < 0 || length <= 0) {
      throw new IllegalArgumentException(
          "invalid range: offset " + offset + " and length " + length);
    }
    long last = offset + length - 1;
    String range = "bytes=" + offset + "-" + last;
    return fetch(
        repository,
        digest,
        range,
        false,
        (response, what) -> readRangeBody(response, what, offset, length, blobSize, range));
  }

  /** Reads the whole blob into memory and checks its size and digest. */
  byte[] readAll(ImageRef repository, Descriptor blob) throws IOException {
    if (blob.size() > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "blob "
              + blob.digest()
              + " of "
              + blob.size()
              + " bytes is too large for memory;"
              + " read it with newBlobStream");
    }
    return fetch(
        repository,
        blob.digest(),
        null,
        false,
        (response, what) -> {
          try (response;
              InputStream in =
                  new VerifyingInputStream(
                      okStream(response, what, 0), blob.digest(), blob.size(), what)) {
            return readExactly(in, blob.size());
          }
        });
  }

  /**
   * Reads a stream that checks the blob's size and digest at its end. A blob of at most {@link
   * #PREALLOCATED_BLOB_BYTES} is read into one array of its size; a larger one grows as its bytes
   * arrive, so that a descriptor with a wrong size cannot make the reader allocate it up front.
   */
  private static byte[] readExactly(InputStream in, long size) throws IOException {
    if (size > PREALLOCATED_BLOB_BYTES) {
      return in.readAllBytes();
    }
    byte[] bytes = new byte[(int) size];
    in.readNBytes(bytes, 0, bytes.length);
    // The stream checks the size and the digest when it reaches the end, and fails on more bytes.
    if (in.read() != -1) {
      throw new IllegalStateException("the verifying stream passed the blob's size");
    }
    return bytes;
  }

  /**
   * Opens the blob as a stream that resumes with a range request after a connection failure and
   * checks the size and digest at the end. The caller closes it.
   */
  InputStream newStream(ImageRef repository, Descriptor blob) throws IOException {
    String what = describe(repository, blob.digest());
    ResumingBlobStream stream =
        new ResumingBlobStream(
            position -> openAt(repository, blob, position),
            blob.size(),
            layerDataRetries.maxRetries(),
            attempt -> sleep(retryPolicy.backoff(attempt, layerDataRetries)),
            what);
    return new VerifyingInputStream(stream, blob.digest(), blob.size(), what);
  }

  /** Returns the blob size from a HEAD request, or empty when the registry does not have it. */
  OptionalLong findSize(RegistryEndpoint endpoint, ImageRef repository, Digest digest, String scope)
      throws IOException {
    Request request =
        new Request.Builder().url(endpoint.blobUrl(repository.repository(), digest)).head().build();
    Transport.Exchange exchange =
        new Transport.Exchange(repository.registryHost(), endpoint, request, scope, true, false);
    return transport.execute(
        exchange,
        response -> {
          try (response) {
            if (response.code() == 404) {
              return OptionalLong.empty();
            }
            if (response.code() != 200) {
              throw ErrorResponses.failure(
                  "cannot check " + describe(repository, digest), response, endpoint.authority());
            }
            String length = response.header("Content-Length");
            try {
              return OptionalLong.of(length == null ? -1 : Long.parseLong(length.trim()));
            } catch (NumberFormatException e) {
              return OptionalLong.of(-1);
            }
          }
        });
  }

  private InputStream openAt(ImageRef repository, Descriptor blob, long position)
      throws IOException {
    String range = position == 0 ? null : "bytes=" + position + "-";
    return fetch(
        repository,
        blob.digest(),
        range,
        true,
        (response, what) -> {
          if (position > 0 && response.code() == 206) {
            checkContentRange(response, what, range, position, blob.size() - 1, blob.size());
            return response.body().byteStream();
          }
          return okStream(response, what, position);
        });
  }

  /**
   * Sends a GET of the blob, with {@code range} when not null, to the remembered location or else
   * to the registry hosts, and reads the response with {@code reader}.
   */
  private <T> T fetch(
      ImageRef repository,
      Digest digest,
      @Nullable String range,
      boolean streaming,
      BodyReader<T> reader)
      throws IOException {
    String what = describe(repository, digest);
    List<RegistryEndpoint> endpoints =
        hosts.endpointsFor(repository.registryHost(), Capability.PULL);
    BlobLocations.@Nullable Location location = locations.get(repository.name(), digest);
    if (location != null && !isConfigured(location.endpoint(), endpoints)) {
      // The hosts.toml changed since: its host, TLS files or headers are no longer those to use.
      locations.forget(repository.name(), digest, location);
      logger.debug(
          "remembered blob location is no longer configured, asking the registry again layer={}"
              + " host={}",
          digest,
          location.endpoint().authority());
      location = null;
    }
    if (location != null) {
      try {
        return fetchFrom(
            repository, digest, location.endpoint(), location, range, streaming, what, reader);
      } catch (RangeNotSatisfiableException | InterruptedIOException e) {
        throw e;
      } catch (IOException e) {
        locations.forget(repository.name(), digest, location);
        logger.debug(
            "remembered blob location failed, asking the registry again layer={} host={} error={}",
            digest,
            RegistryEndpoint.authorityOf(location.url()),
            e.getMessage());
      }
    }

    return EndpointFallback.tryInOrder(
        hosts,
        endpoints,
        endpoint -> fetchFrom(repository, digest, endpoint, null, range, streaming, what, reader));
  }

  /** Returns whether {@code endpoint} is one of {@code endpoints}, whether it fails fast or not. */
  private static boolean isConfigured(RegistryEndpoint endpoint, List<RegistryEndpoint> endpoints) {
    for (RegistryEndpoint configured : endpoints) {
      if (configured.failingFast().equals(endpoint.failingFast())) {
        return true;
      }
    }
    return false;
  }

  private <T> T fetchFrom(
      ImageRef repository,
      Digest digest,
      RegistryEndpoint endpoint,
      BlobLocations.@Nullable Location location,
      @Nullable String range,
      boolean streaming,
      String what,
      BodyReader<T> reader)
      throws IOException {
    Request.Builder request =
        new Request.Builder()
            .url(
                location != null
                    ? location.url()
                    : endpoint.blobUrl(repository.repository(), digest))
            .get();
    if (range != null) {
      request.header("Range", range);
    }
    boolean redirected = location != null && location.redirected();
    // Ranges and streams read layer data; whole blobs read here are zTOCs, configs and artifacts.
    boolean layerData = range != null || streaming;
    Transport.Exchange exchange =
        new Transport.Exchange(
            repository.registryHost(),
            redirected ? null : endpoint,
            request.build(),
            redirected ? null : Scopes.pull(repository.repository()),
            true,
            streaming,
            layerData ? layerDataRetries : null);
    return transport.execute(
        exchange,
        response -> {
          T result = reader.read(response, what);
          if (location == null) {
            locations.remember(repository.name(), digest, endpoint, response.request().url());
          }
          return result;
        });
  }

  private byte[] readRangeBody(
      Response response, String what, long offset, int length, long blobSize, String range)
      throws IOException {
    try (response) {
      if (response.code() == 206) {
        checkContentRange(response, what, range, offset, offset + length - 1, blobSize);
        // Reading through the stream into one array of the final size keeps okio from holding the
        // whole body in its 8 KiB segments and then copying them, which doubled the garbage of
        // every span fetch.
        byte[] bytes = new byte[length];
        int read = response.body().byteStream().readNBytes(bytes, 0, length);
        if (read < length) {
          throw new EOFException(
              what + ": " + range + " ended after " + read + " of " + length + " bytes");
        }
        return bytes;
      }
      InputStream in = okStream(response, what, offset);
      byte[] bytes = in.readNBytes(length);
      if (bytes.length < length) {
        throw new RangeNotSatisfiableException(
            what
                + ": "
                + range
                + " ends after the end of the blob ("
                + (offset + bytes.length)
                + " bytes)",
            response.request().method(),
            response.request().url(),
            List.of(),
            offset + bytes.length);
      }
      return bytes;
    }
  }

  /**
   * Returns the body of a {@code 200} response positioned at {@code offset}, after discarding the
   * bytes before it. Fails for any other status.
   */
  private InputStream okStream(Response response, String what, long offset) throws IOException {
    int status = response.code();
    String method = response.request().method();
    if (status == 200) {
      if (offset > options.maxRangeSkipBytes()) {
        response.close();
        throw new RegistryException(
            what
                + ": the server ignored the Range header, and skipping to offset "
                + offset
                + " would discard more than the limit of "
                + options.maxRangeSkipBytes()
                + " bytes",
            method,
            response.request().url(),
            status,
            List.of(),
            null);
      }
      BufferedSource source = response.body().source();
      source.skip(offset);
      return source.inputStream();
    }
    try (response) {
      if (status == 416) {
        ContentRange unsatisfied = ContentRange.parse(response.header("Content-Range"));
        long size = unsatisfied == null ? -1 : unsatisfied.completeLength();
        String requested = response.request().header("Range");
        throw new RangeNotSatisfiableException(
            what
                + ": "
                + requested
                + " is not satisfiable"
                + (size >= 0 ? " (blob size " + size + " bytes)" : ""),
            method,
            response.request().url(),
            ErrorResponses.errorsOf(response),
            size);
      }
      if (status == 404) {
        throw new BlobNotFoundException(
            what + " not found",
            method,
            response.request().url(),
            ErrorResponses.errorsOf(response));
      }
      throw ErrorResponses.failure(
          "cannot read " + what, response, RegistryEndpoint.authorityOf(response.request().url()));
    }
  }

  private static void checkContentRange(
      Response response, String what, String range, long first, long last, long blobSize)
      throws RegistryException {
    String header = response.header("Content-Range");
    ContentRange actual = ContentRange.parse(header);
    boolean matches =
        actual != null
            && actual.first() == first
            && actual.last() == last
            && (blobSize < 0 || actual.completeLength() < 0 || actual.completeLength() == blobSize);
    if (!matches) {
      response.close();
      throw new RegistryException(
          what
              + ": the answer to "
              + range
              + " has "
              + (header == null ? "no Content-Range" : "Content-Range \"" + header + "\"")
              + ", expected bytes "
              + first
              + "-"
              + last
              + "/"
              + (blobSize < 0 ? "<size>" : String.valueOf(blobSize)),
          response.request().method(),
          response.request().url(),
          206,
          List.of(),
          null);
    }
  }

  private void sleep(java.time.Duration wait) throws IOException {
    try {
      options.sleeper().sleep(wait);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to resume a blob read");
    }
  }

  static String describe(ImageRef repository, Digest digest) {
    return "blob " + digest + " of " + repository.name();
  }
}
