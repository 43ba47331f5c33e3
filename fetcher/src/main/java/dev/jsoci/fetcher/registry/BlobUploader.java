package dev.jsoci.fetcher.registry;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.SequenceInputStream;
import java.util.List;
import okhttp3.HttpUrl;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSink;
import okio.Okio;
import okio.Source;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes blobs and manifests with the OCI distribution-spec push API, to the first host of the
 * registry that has the {@code push} capability.
 *
 * <h2>Blobs</h2>
 *
 * <ol>
 *   <li>{@code HEAD /v2/<name>/blobs/<digest>}: a {@code 200} means the blob is there already.
 *   <li>{@code POST /v2/<name>/blobs/uploads/} opens an upload session; with {@code
 *       ?mount=<digest>&from=<repository>} the registry may link the blob instead ({@code 201}), or
 *       open a session ({@code 202}) when it cannot.
 *   <li>Up to {@code chunkedUploadThresholdBytes}: one {@code PUT <location>?digest=<digest>} with
 *       the whole content. Above it: {@code PATCH <location>} per chunk with {@code Content-Range:
 *       <first>-<last>}, each response giving the next location and the {@code Range} received so
 *       far, then an empty {@code PUT <location>?digest=<digest>}.
 * </ol>
 *
 * <p>When the data phase fails with a connection error or a retryable status, the upload starts
 * again with a new session, up to {@code maxRetries} times, because a session's state after a
 * broken request is unknown. A stream of unknown length cannot be read twice, so its upload is not
 * restarted.
 */
final class BlobUploader {
  private static final Logger logger = LoggerFactory.getLogger(BlobUploader.class);
  private static final okhttp3.MediaType OCTET_STREAM =
      okhttp3.MediaType.get("application/octet-stream");

  private final RegistryOptions options;
  private final HostsDirectory hosts;
  private final Transport transport;
  private final BlobReader reader;
  private final RetryPolicy retryPolicy;

  BlobUploader(
      RegistryOptions options, HostsDirectory hosts, Transport transport, BlobReader reader) {
    this.options = options;
    this.hosts = hosts;
    this.transport = transport;
    this.reader = reader;
    this.retryPolicy = new RetryPolicy(options);
  }

  BlobPushOutcome push(ImageRef repository, Descriptor blob, BlobSource source) throws IOException {
    return pushOrMount(repository, blob, source, null, true);
  }

  /**
   * Pushes the blob, linking it from {@code fromRepository} (in the same registry) when the
   * registry allows, and uploading it otherwise.
   *
   * @param checkExisting whether to ask the registry for the blob first ({@code HEAD}); false when
   *     the caller has just found it missing
   */
  BlobPushOutcome pushOrMount(
      ImageRef repository,
      Descriptor blob,
      BlobSource source,
      @Nullable String fromRepository,
      boolean checkExisting)
      throws IOException {
    RegistryEndpoint endpoint = pushEndpoint(repository);
    String scope =
        fromRepository == null
            ? Scopes.pullPush(repository.repository())
            : Scopes.mount(repository.repository(), fromRepository);
    if (checkExisting
        && reader.findSize(endpoint, repository, blob.digest(), scope).isPresent()) {
      return BlobPushOutcome.ALREADY_EXISTS;
    }

    for (int attempt = 1; ; attempt++) {
      HttpUrl location = startUpload(endpoint, repository, scope, blob.digest(), fromRepository);
      if (location == null) {
        return BlobPushOutcome.MOUNTED;
      }
      // A mount that opened an upload session instead is not tried again.
      fromRepository = null;
      try {
        try (InputStream in = source.newInputStream()) {
          if (blob.size() <= options.chunkedUploadThresholdBytes()) {
            putWhole(endpoint, repository, scope, location, blob, in);
          } else {
            putChunks(endpoint, repository, scope, location, blob, in);
          }
        }
        return BlobPushOutcome.UPLOADED;
      } catch (IOException e) {
        boolean retryable =
            RetryPolicy.isRetryableFailure(e)
                || (e instanceof RegistryException
                    && RetryPolicy.isRetryableStatus(((RegistryException) e).statusCode()));
        if (!retryable || attempt > options.maxRetries()) {
          throw e;
        }
        logger.debug(
            "restarting blob upload layer={} attempt={} error={}",
            blob.digest(),
            attempt + 1,
            e.getMessage());
        pause(attempt);
      }
    }
  }

  /**
   * Pushes a stream of unknown length and returns its descriptor. A stream that ends within {@code
   * chunkedUploadThresholdBytes} is held in memory and pushed like {@link #push}, and a longer one
   * is uploaded in chunks while its digest is computed.
   */
  Descriptor pushStream(ImageRef repository, String mediaType, InputStream content)
      throws IOException {
    int threshold = (int) Math.min(options.chunkedUploadThresholdBytes(), Integer.MAX_VALUE - 9);
    byte[] head = content.readNBytes(threshold + 1);
    if (head.length <= threshold) {
      Descriptor blob = Descriptor.of(mediaType, Digest.sha256Of(head), head.length);
      push(repository, blob, BlobSource.of(head));
      return blob;
    }

    RegistryEndpoint endpoint = pushEndpoint(repository);
    String scope = Scopes.pullPush(repository.repository());
    HttpUrl location = startUpload(endpoint, repository, scope, null, null);
    if (location == null) {
      throw new IllegalStateException("an upload without mount returned no location");
    }
    InputStream whole = new SequenceInputStream(new ByteArrayInputStream(head), content);
    Descriptor sent = putChunks(endpoint, repository, scope, location, null, -1, whole);
    return Descriptor.of(mediaType, sent.digest(), sent.size());
  }

  /**
   * Uploads {@code content} as a manifest or index under {@code target}'s tag, or its digest when
   * it has one, and returns its digest.
   */
  Digest pushManifest(ImageRef target, String mediaType, byte[] content) throws IOException {
    Digest digest = Digest.sha256Of(content);
    Digest named = target.digest();
    if (named != null) {
      Digest computed = named.hasher().update(content).digest();
      if (!computed.equals(named)) {
        throw new DigestMismatchException("manifest pushed as " + target, named, computed);
      }
      digest = named;
    }

    RegistryEndpoint endpoint = pushEndpoint(target);
    Request request =
        new Request.Builder()
            .url(endpoint.manifestUrl(target.repository(), target.manifestReference()))
            .put(RequestBody.create(content, okhttp3.MediaType.get(mediaType)))
            .build();
    Transport.Exchange exchange =
        new Transport.Exchange(
            target.registryHost(),
            endpoint,
            request,
            Scopes.pullPush(target.repository()),
            true,
            false);
    Digest expected = digest;
    transport.execute(
        exchange,
        response -> {
          try (response) {
            if (response.code() != 201 && response.code() != 200) {
              throw ErrorResponses.failure(
                  "cannot push manifest " + target, response, endpoint.authority());
            }
            checkAnnouncedDigest(response, "manifest pushed as " + target, expected, content);
            return null;
          }
        });
    return digest;
  }

  private RegistryEndpoint pushEndpoint(ImageRef repository) throws IOException {
    return hosts.pushEndpoint(repository.registryHost());
  }

  /**
   * Opens an upload session and returns its location, or null when the registry mounted the blob
   * from {@code fromRepository} instead.
   */
  private @Nullable HttpUrl startUpload(
      RegistryEndpoint endpoint,
      ImageRef repository,
      String scope,
      @Nullable Digest digest,
      @Nullable String fromRepository)
      throws IOException {
    HttpUrl.Builder url = endpoint.uploadsUrl(repository.repository()).newBuilder();
    if (fromRepository != null && digest != null) {
      url.addQueryParameter("mount", digest.toString()).addQueryParameter("from", fromRepository);
    }
    Request request =
        new Request.Builder().url(url.build()).post(RequestBody.create(new byte[0], null)).build();
    Transport.Exchange exchange =
        new Transport.Exchange(repository.registryHost(), endpoint, request, scope, true, false);
    return transport.execute(
        exchange,
        response -> {
          try (response) {
            if (response.code() == 201 && fromRepository != null) {
              return null;
            }
            if (response.code() != 202) {
              throw ErrorResponses.failure(
                  "cannot start an upload to " + repository.name(), response, endpoint.authority());
            }
            return nextLocation(response);
          }
        });
  }

  private void putWhole(
      RegistryEndpoint endpoint,
      ImageRef repository,
      String scope,
      HttpUrl location,
      Descriptor blob,
      InputStream content)
      throws IOException {
    HttpUrl url =
        location.newBuilder().addQueryParameter("digest", blob.digest().toString()).build();
    Request request =
        new Request.Builder().url(url).put(new StreamBody(content, blob.size())).build();
    finish(endpoint, repository, scope, request, blob.digest());
  }

  private void putChunks(
      RegistryEndpoint endpoint,
      ImageRef repository,
      String scope,
      HttpUrl location,
      Descriptor blob,
      InputStream content)
      throws IOException {
    putChunks(endpoint, repository, scope, location, blob.digest(), blob.size(), content);
  }

  /**
   * Sends {@code content} in chunks, completes the upload, and returns the digest and size sent.
   *
   * @param digest the blob digest, or null to compute it from the content
   * @param size the expected size, or -1 when unknown
   */
  private Descriptor putChunks(
      RegistryEndpoint endpoint,
      ImageRef repository,
      String scope,
      HttpUrl location,
      @Nullable Digest digest,
      long size,
      InputStream content)
      throws IOException {
    Digest.Hasher hasher = Digest.sha256Hasher();
    byte[] chunk = new byte[options.uploadChunkBytes()];
    HttpUrl current = location;
    long offset = 0;
    while (true) {
      int length = content.readNBytes(chunk, 0, chunk.length);
      if (length == 0) {
        break;
      }
      if (digest == null) {
        hasher.update(chunk, 0, length);
      }
      current = patch(endpoint, repository, scope, current, chunk, length, offset);
      offset += length;
    }
    if (size >= 0 && offset != size) {
      throw new RegistryException(
          "blob "
              + digest
              + ": the source returned "
              + offset
              + " bytes, expected "
              + size
              + " from the descriptor");
    }

    Digest blobDigest = digest != null ? digest : hasher.digest();
    HttpUrl url = current.newBuilder().addQueryParameter("digest", blobDigest.toString()).build();
    Request request =
        new Request.Builder().url(url).put(RequestBody.create(new byte[0], OCTET_STREAM)).build();
    finish(endpoint, repository, scope, request, blobDigest);
    return Descriptor.of("", blobDigest, offset);
  }

  private HttpUrl patch(
      RegistryEndpoint endpoint,
      ImageRef repository,
      String scope,
      HttpUrl location,
      byte[] chunk,
      int length,
      long offset)
      throws IOException {
    long last = offset + length - 1;
    Request request =
        new Request.Builder()
            .url(location)
            .patch(RequestBody.create(chunk, OCTET_STREAM, 0, length))
            .header("Content-Range", offset + "-" + last)
            .build();
    // A PATCH appends to the session, so it is never sent twice. The caller restarts the upload.
    Transport.Exchange exchange =
        new Transport.Exchange(repository.registryHost(), endpoint, request, scope, false, false);
    return transport.execute(
        exchange,
        response -> {
          try (response) {
            if (response.code() != 202) {
              throw ErrorResponses.failure(
                  "cannot upload bytes " + offset + "-" + last + " to " + repository.name(),
                  response,
                  endpoint.authority());
            }
            String received = response.header("Range");
            if (received != null && !receivedUpTo(received, last)) {
              throw new RegistryException(
                  "upload to "
                      + repository.name()
                      + " has received \""
                      + received
                      + "\" after bytes "
                      + offset
                      + "-"
                      + last
                      + ", expected 0-"
                      + last,
                  "PATCH",
                  response.request().url(),
                  202,
                  List.of(),
                  null);
            }
            return nextLocation(response);
          }
        });
  }

  /**
   * Returns whether an upload's {@code Range} header ({@code 0-<last>} or {@code bytes=0-<last>}).
   */
  private static boolean receivedUpTo(String range, long last) {
    String text = range.trim();
    if (text.startsWith("bytes=")) {
      text = text.substring("bytes=".length());
    }
    return text.equals("0-" + last);
  }

  /** Sends the request that completes an upload and checks the digest the registry announces. */
  private void finish(
      RegistryEndpoint endpoint, ImageRef repository, String scope, Request request, Digest digest)
      throws IOException {
    Transport.Exchange exchange =
        new Transport.Exchange(repository.registryHost(), endpoint, request, scope, false, false);
    transport.execute(
        exchange,
        response -> {
          try (response) {
            if (response.code() != 201) {
              throw ErrorResponses.failure(
                  "cannot complete the upload of blob " + digest + " to " + repository.name(),
                  response,
                  endpoint.authority());
            }
            checkAnnouncedDigest(response, "blob pushed to " + repository.name(), digest, null);
            return null;
          }
        });
  }

  private static void checkAnnouncedDigest(
      Response response, String what, Digest expected, byte @Nullable [] content)
      throws RegistryException {
    String header = response.header("Docker-Content-Digest");
    if (header == null || header.isBlank()) {
      return;
    }
    Digest announced;
    try {
      announced = Digest.parse(header.trim());
    } catch (IllegalArgumentException e) {
      throw new RegistryException(what + ": invalid Docker-Content-Digest: " + e.getMessage());
    }
    if (announced.algorithm().equals(expected.algorithm())) {
      if (!announced.equals(expected)) {
        throw new DigestMismatchException(what, expected, announced);
      }
    } else if (content != null) {
      Digest computed = announced.hasher().update(content).digest();
      if (!computed.equals(announced)) {
        throw new DigestMismatchException(what, computed, announced);
      }
    }
  }

  private static HttpUrl nextLocation(Response response) throws RegistryException {
    String location = response.header("Location");
    HttpUrl url = location == null ? null : response.request().url().resolve(location);
    if (url == null) {
      throw new RegistryException(
          "the registry responded to "
              + response.request().method()
              + " "
              + RegistryException.withoutQuery(response.request().url())
              + " without a valid Location header");
    }
    return url;
  }

  private void pause(int attempt) throws IOException {
    try {
      options.sleeper().sleep(retryPolicy.backoff(attempt));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting to restart an upload");
    }
  }

  /** A request body read once from a stream of known length. */
  private static final class StreamBody extends RequestBody {
    private final InputStream content;
    private final long length;

    StreamBody(InputStream content, long length) {
      this.content = content;
      this.length = length;
    }

    @Override
    public okhttp3.MediaType contentType() {
      return OCTET_STREAM;
    }

    @Override
    public long contentLength() {
      return length;
    }

    @Override
    public boolean isOneShot() {
      return true;
    }

    @Override
    public void writeTo(BufferedSink sink) throws IOException {
      Source source = Okio.source(content);
      long written = 0;
      while (written < length) {
        long read = source.read(sink.getBuffer(), Math.min(8192, length - written));
        if (read < 0) {
          throw new IOException("blob source ended after " + written + " of " + length + " bytes");
        }
        written += read;
        sink.emitCompleteSegments();
      }
    }
  }
}
