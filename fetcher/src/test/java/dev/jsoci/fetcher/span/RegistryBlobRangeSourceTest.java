package dev.jsoci.fetcher.span;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.fetcher.registry.BlobSource;
import dev.jsoci.fetcher.registry.CredentialStore;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryException;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fetcher.registry.RegistryStatistics;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.MediaType;
import dev.jsoci.testing.LocalRegistry;
import dev.jsoci.testing.RandomLayer;
import dev.jsoci.ztoc.Span;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockResponseBody;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okio.BufferedSink;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Span reads through the registry client, against a real registry and a faulty mock one. */
class RegistryBlobRangeSourceTest {
  private static final RandomLayer LAYER = RandomLayer.gzip(21, 30, 80 * 1024);
  private static final Descriptor DESCRIPTOR =
      Descriptor.of(MediaType.OCI_LAYER_TAR_GZIP, LAYER.digest(), LAYER.blob().length);

  private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private RegistryClient client(RegistryOptions.Builder options) {
    RegistryClient client =
        RegistryClient.create(
            options.hostsDirectory(null).credentials(CredentialStore.ANONYMOUS).build());
    toClose.add(client);
    return client;
  }

  private SpanManager open(BlobRangeSource source) throws IOException {
    SpanEngine engine = SpanEngine.start(SpanOptions.builder().backgroundFetch(false).build());
    toClose.add(engine);
    return engine.openLayer(LAYER.digest(), LAYER.ztoc(), source);
  }

  private static byte[] read(SpanManager manager, long offset, int length) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(length);
    assertThat(manager.read(offset, buffer)).isEqualTo(length);
    return buffer.array();
  }

  private static long middleOf(int spanId) {
    Span span = LAYER.span(spanId);
    return (span.uncompressedStart() + span.uncompressedEnd()) / 2;
  }

  @Test
  void read_fromLocalRegistry_matchesTar() throws IOException {
    assumeTrue(
        LocalRegistry.isInstalled(),
        "docker-registry is not installed; install the Debian package docker-registry");
    LocalRegistry registry = LocalRegistry.start(null);
    toClose.add(registry);
    RegistryStatistics statistics = new RegistryStatistics();
    RegistryClient client = client(RegistryOptions.builder().listener(statistics));
    ImageRef repository = ImageRef.parse(registry.host() + "/lazy/layer:1");
    client.pushBlob(repository, DESCRIPTOR, BlobSource.of(LAYER.blob()));
    long requestsAfterPush = statistics.snapshot().get(registry.host()).requests();
    SpanManager manager = open(RegistryBlobRangeSource.of(client, repository, DESCRIPTOR));
    Random random = new Random(22);

    for (int i = 0; i < 40; i++) {
      long offset = random.nextLong(manager.size());
      int length = (int) Math.min(manager.size() - offset, 1 + random.nextInt(200_000));
      assertThat(read(manager, offset, length)).isEqualTo(LAYER.tarRange(offset, length));
    }

    long registryRequests =
        statistics.snapshot().get(registry.host()).requests() - requestsAfterPush;
    assertThat(registryRequests).isEqualTo(manager.statistics().requests());
    assertThat(manager.statistics().bytesFetched())
        .isAtMost((long) LAYER.blob().length + LAYER.spanCount());
  }

  @Test
  void read_registryFailsMidSpanThenRecovers_clientRetries() throws IOException {
    FaultyRegistry registry = FaultyRegistry.start();
    toClose.add(registry);
    Span span = LAYER.span(3);
    registry.cutFirstResponseAt(span.compressedStart());
    RegistryClient client = client(RegistryOptions.builder().maxRetries(2).sleeper(duration -> {}));
    SpanManager manager = open(RegistryBlobRangeSource.of(client, registry.ref(), DESCRIPTOR));

    byte[] bytes = read(manager, middleOf(3), 1000);

    assertThat(bytes).isEqualTo(LAYER.tarRange(middleOf(3), 1000));
    String range = "bytes=" + span.compressedStart() + "-" + (span.compressedEnd() - 1);
    assertThat(registry.ranges()).containsExactly(range, range);
    assertThat(manager.statistics().requests()).isEqualTo(1);
    assertThat(manager.state(3)).isEqualTo(SpanState.READY);
  }

  @Test
  void read_registryFailsMidSpanWithoutRetries_nextReadRecovers() throws IOException {
    FaultyRegistry registry = FaultyRegistry.start();
    toClose.add(registry);
    registry.cutFirstResponseAt(LAYER.span(3).compressedStart());
    RegistryClient client = client(RegistryOptions.builder().maxRetries(0));
    SpanManager manager = open(RegistryBlobRangeSource.of(client, registry.ref(), DESCRIPTOR));

    assertThrows(RegistryException.class, () -> read(manager, middleOf(3), 1000));
    assertThat(manager.state(3)).isEqualTo(SpanState.FAILED);

    assertThat(read(manager, middleOf(3), 1000)).isEqualTo(LAYER.tarRange(middleOf(3), 1000));
    assertThat(manager.state(3)).isEqualTo(SpanState.READY);
    assertThat(registry.ranges()).hasSize(2);
  }

  /**
   * A registry on MockWebServer that serves ranges of the test layer and can cut the first response
   * for one range in the middle of its body.
   */
  private static final class FaultyRegistry implements AutoCloseable {
    private final MockWebServer server = new MockWebServer();
    private final List<String> ranges = new CopyOnWriteArrayList<>();
    private volatile long cutOffset = -1;
    private final AtomicBoolean cut = new AtomicBoolean();

    static FaultyRegistry start() throws IOException {
      FaultyRegistry registry = new FaultyRegistry();
      registry.server.setDispatcher(
          new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest request) {
              return registry.answer(request);
            }
          });
      registry.server.start(InetAddress.getLoopbackAddress(), 0);
      return registry;
    }

    void cutFirstResponseAt(long offset) {
      cutOffset = offset;
    }

    ImageRef ref() {
      return ImageRef.parse("127.0.0.1:" + server.getPort() + "/lazy/layer:1");
    }

    List<String> ranges() {
      return List.copyOf(ranges);
    }

    private MockResponse answer(RecordedRequest request) {
      String range = request.getHeaders().get("Range");
      if (!request.getTarget().equals("/v2/lazy/layer/blobs/" + LAYER.digest()) || range == null) {
        return new MockResponse.Builder().code(404).build();
      }
      ranges.add(range);
      String[] bounds = range.substring("bytes=".length()).split("-", -1);
      int first = Integer.parseInt(bounds[0]);
      int last = Integer.parseInt(bounds[1]);
      byte[] body = Arrays.copyOfRange(LAYER.blob(), first, last + 1);
      MockResponse.Builder response =
          new MockResponse.Builder()
              .code(206)
              .addHeader(
                  "Content-Range", "bytes " + first + "-" + last + "/" + LAYER.blob().length);
      if (first == cutOffset && cut.compareAndSet(false, true)) {
        return response
            .body(new CutBody(body))
            .onResponseEnd(new SocketEffect.CloseSocket())
            .build();
      }
      return response.body(new okio.Buffer().write(body)).build();
    }

    @Override
    public void close() {
      server.close();
    }
  }

  /**
   * A body that announces its full length but writes only half of it. Closing the socket at the end
   * of the response then cuts the transfer in the middle.
   */
  private record CutBody(byte[] bytes) implements MockResponseBody {
    @Override
    public long getContentLength() {
      return bytes.length;
    }

    @Override
    public void writeTo(BufferedSink sink) throws IOException {
      sink.write(bytes, 0, bytes.length / 2);
      sink.flush();
    }
  }
}
