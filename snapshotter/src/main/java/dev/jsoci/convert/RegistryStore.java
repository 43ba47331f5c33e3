package dev.jsoci.convert;

import dev.jsoci.fetcher.registry.BlobPushOutcome;
import dev.jsoci.fetcher.registry.ManifestContent;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryException;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * One repository of a registry, reached through a {@link RegistryClient}.
 *
 * <p>A {@link BlobWriter} hands its bytes through a {@link ChunkPipe} to an upload that runs on a
 * thread of this store, so a blob is sent while it is being written. A writer with a known
 * descriptor uploads without asking the registry, because callers have just asked {@link #hasBlob}
 * ({@code HEAD}). An upload whose
 * connection breaks cannot be restarted from the pipe, so it fails and the caller copies the blob
 * again from its source. Without a descriptor the client computes the digest as the bytes arrive:
 * it keeps blobs up to its chunked-upload threshold (64 MiB by default) in memory and sends larger
 * ones in chunks. The writer's commit then compares that digest with its own.
 *
 * <p>Manifests are pushed by digest, or by tag when one is given. The store does not close the
 * client. Not thread-safe.
 */
public final class RegistryStore implements ImageStore {
  /**
   * Chunks of {@link #PIPE_CHUNK_BYTES} a writer may be ahead of its upload: 16 MiB, twice the
   * registry client's default upload chunk. The client reads a whole chunk before it sends it and
   * then waits for the registry's response, so a smaller pipe would stall the layer pass for each
   * round trip.
   */
  private static final int PIPE_CHUNKS = 64;

  private static final int PIPE_CHUNK_BYTES = 256 * 1024;
  private static final long ABORT_WAIT_SECONDS = 30;

  private final RegistryClient client;
  private final ImageRef repository;
  private final Map<Digest, byte[]> fetchedManifests = new HashMap<>();
  private @Nullable ExecutorService uploads;

  private RegistryStore(RegistryClient client, ImageRef repository) {
    this.client = client;
    this.repository = repository;
  }

  /**
   * Returns the store of the repository of {@code reference}; its tag or digest does not matter.
   */
  public static RegistryStore of(RegistryClient client, ImageRef reference) {
    return new RegistryStore(client, reference);
  }

  @Override
  public String name() {
    return repository.name();
  }

  @Override
  public Descriptor resolve(String reference) throws IOException {
    ManifestContent content = client.fetchManifest(reference(reference));
    fetchedManifests.put(content.descriptor().digest(), content.bytes());
    return content.descriptor();
  }

  @Override
  public byte[] readManifest(Digest digest) throws IOException {
    byte[] fetched = fetchedManifests.remove(digest);
    if (fetched != null) {
      return fetched;
    }
    return client.fetchManifest(repository, digest).bytes();
  }

  @Override
  public InputStream openBlob(Descriptor blob) throws IOException {
    return client.newBlobStream(repository, blob);
  }

  @Override
  public boolean hasBlob(Digest digest) throws IOException {
    // Convert asks this of its destination, so the host that pushes go to must have the blob.
    return client.findBlobSizeAtPushHost(repository, digest).isPresent();
  }

  @Override
  public boolean writesWhereItReads() throws IOException {
    return !client.pushesToAnotherHost(repository);
  }

  @Override
  public boolean hasManifest(Digest digest) throws IOException {
    return client.hasManifestAtPushHost(repository, digest);
  }

  @Override
  public BlobWriter newBlobWriter(@Nullable Descriptor expected) {
    ChunkPipe pipe = new ChunkPipe(PIPE_CHUNKS, PIPE_CHUNK_BYTES);
    if (expected == null) {
      Future<Descriptor> push =
          submit(
              pipe,
              () -> {
                try (InputStream in = pipe.newInputStream()) {
                  return client.pushBlob(repository, MediaType.SOCI_ZTOC, in);
                }
              });
      return new PipeWriter<>(pipe, push);
    }

    AtomicBoolean opened = new AtomicBoolean();
    Future<BlobPushOutcome> push =
        submit(
            pipe,
            () ->
                client.pushMissingBlob(
                    repository,
                    expected,
                    null,
                    () -> {
                      if (!opened.compareAndSet(false, true)) {
                        throw new RegistryException(
                            "cannot restart the upload of blob "
                                + expected.digest()
                                + " to "
                                + name()
                                + ": its bytes were streamed once");
                      }
                      return pipe.newInputStream();
                    }));
    return new PipeWriter<>(pipe, push);
  }

  /**
   * Pushes the blob from {@code source} with the registry client. The client skips a blob the
   * repository has ({@code HEAD}), links it from {@code source} when that is another repository of
   * the same registry (a cross-repository mount), and otherwise uploads it, opening the source
   * again for each retry.
   */
  @Override
  public boolean copyBlob(Descriptor blob, ImageStore source) throws IOException {
    BlobPushOutcome outcome;
    @Nullable String mountFrom = mountableRepository(source);
    if (mountFrom != null) {
      outcome = client.mountBlob(repository, blob, mountFrom, () -> source.openBlob(blob));
    } else {
      outcome = client.pushBlob(repository, blob, () -> source.openBlob(blob));
    }
    return outcome == BlobPushOutcome.UPLOADED;
  }

  /**
   * Mounts the blob from {@code source} when that is another repository of this registry.
   *
   * <p>NOTE: when the registry declines the mount, the registry client uploads the blob, reading it
   * from {@code source} once more, and those bytes are not counted as sent.
   */
  @Override
  public boolean mountBlob(Descriptor blob, ImageStore source) throws IOException {
    @Nullable String mountFrom = mountableRepository(source);
    if (mountFrom == null) {
      return false;
    }
    client.pushMissingBlob(repository, blob, mountFrom, () -> source.openBlob(blob));
    return true;
  }

  /**
   * Returns the repository to mount blobs of {@code source} from: its repository when it is another
   * repository of this registry, else null.
   */
  private @Nullable String mountableRepository(ImageStore source) {
    if (!(source instanceof RegistryStore)) {
      return null;
    }
    ImageRef from = ((RegistryStore) source).repository;
    boolean sameRegistry = from.registryHost().equals(repository.registryHost());
    boolean sameRepository = from.repository().equals(repository.repository());
    return sameRegistry && !sameRepository ? from.repository() : null;
  }

  @Override
  public void writeManifest(Descriptor descriptor, byte[] bytes, @Nullable String tag)
      throws IOException {
    ImageRef target =
        tag == null
            ? new ImageRef(
                repository.registryHost(), repository.repository(), null, descriptor.digest())
            : new ImageRef(repository.registryHost(), repository.repository(), tag, null);
    Digest pushed = client.pushManifest(target, descriptor.mediaType(), bytes);
    if (!pushed.equals(descriptor.digest())) {
      throw new BlobDigestMismatchException(
          "manifest pushed to " + target, descriptor.digest(), pushed, bytes.length);
    }
  }

  /** Stops upload threads that are still running; the client stays open. */
  @Override
  public void close() {
    if (uploads != null) {
      uploads.shutdownNow();
    }
  }

  private ImageRef reference(String reference) {
    if (reference.startsWith(Digest.SHA256 + ":") || reference.startsWith(Digest.SHA512 + ":")) {
      return new ImageRef(
          repository.registryHost(), repository.repository(), null, Digest.parse(reference));
    }
    return new ImageRef(repository.registryHost(), repository.repository(), reference, null);
  }

  private <T> Future<T> submit(ChunkPipe pipe, Callable<T> upload) {
    if (uploads == null) {
      uploads =
          Executors.newCachedThreadPool(
              task -> {
                Thread thread = new Thread(task, "jsoci-upload");
                thread.setDaemon(true);
                return thread;
              });
    }
    return uploads.submit(
        () -> {
          try {
            return upload.call();
          } finally {
            // An upload that ends without reading everything must not stall the writer.
            pipe.closeReader();
          }
        });
  }

  /**
   * A writer whose bytes go through a pipe to an upload running on another thread.
   *
   * @param <T> what the upload returns: a push outcome, or the descriptor of a pushed stream
   */
  private final class PipeWriter<T> extends BlobWriter {
    private final ChunkPipe pipe;
    private final OutputStream out;
    private final Future<T> push;
    private boolean published;

    PipeWriter(ChunkPipe pipe, Future<T> push) {
      this.pipe = pipe;
      this.out = pipe.newOutputStream();
      this.push = push;
    }

    @Override
    protected void writeContent(byte[] buffer, int offset, int length) throws IOException {
      out.write(buffer, offset, length);
    }

    @Override
    protected boolean publish(Digest digest, long sizeBytes) throws IOException {
      out.close();
      T result = await();
      published = true;
      if (result instanceof Descriptor) {
        Digest sent = ((Descriptor) result).digest();
        if (!sent.equals(digest)) {
          throw new BlobDigestMismatchException(
              "blob pushed to " + name(), digest, sent, sizeBytes);
        }
        return true;
      }
      return result == BlobPushOutcome.UPLOADED;
    }

    private T await() throws IOException {
      try {
        return push.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while uploading a blob to " + name());
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof IOException) {
          throw (IOException) cause;
        }
        throw new IOException("upload of a blob to " + name() + " failed: " + cause, cause);
      }
    }

    @Override
    protected String storeName() {
      return name();
    }

    /** Aborts an upload that was not committed and waits a bounded time for it to stop. */
    @Override
    public void close() {
      if (published) {
        return;
      }
      pipe.abort();
      try {
        push.get(ABORT_WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (ExecutionException | TimeoutException e) {
        // The aborted upload failed as intended, or is still stopping.
        push.cancel(true);
      }
    }
  }
}
