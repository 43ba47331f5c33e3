package dev.jsoci.fetcher.registry;

import dev.jsoci.oci.ImageRef;
import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.Headers;

/**
 * A MockWebServer on a loopback address whose responses come from a handler the test sets, and
 * which keeps every request it received in order.
 */
final class MockRegistry implements AutoCloseable {
  /** Returns the response to one request. */
  @FunctionalInterface
  interface Handler {
    MockResponse handle(RecordedRequest request) throws Exception;
  }

  private final MockWebServer server = new MockWebServer();
  private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
  private volatile Handler handler = request -> new MockResponse.Builder().code(404).build();

  private MockRegistry() {}

  /** Starts a server on {@code address}, for example 127.0.0.1 or 127.0.0.2. */
  static MockRegistry start(String address) throws IOException {
    MockRegistry registry = new MockRegistry();
    registry.server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            registry.requests.add(request);
            try {
              return registry.handler.handle(request);
            } catch (Exception e) {
              return new MockResponse.Builder().code(599).body(e.toString()).build();
            }
          }
        });
    registry.server.start(InetAddress.getByName(address), 0);
    return registry;
  }

  static MockRegistry start() throws IOException {
    return start("127.0.0.1");
  }

  void handle(Handler handler) {
    this.handler = handler;
  }

  /** Returns {@code address:port}. */
  String host() {
    return server.getSocketAddress().getAddress().getHostAddress() + ":" + server.getPort();
  }

  String url(String path) {
    return "http://" + host() + path;
  }

  ImageRef ref(String nameAndTag) {
    return ImageRef.parse(host() + "/" + nameAndTag);
  }

  /** Returns the requests received so far, in order. */
  List<RecordedRequest> requests() {
    return new ArrayList<>(requests);
  }

  /** Returns {@code METHOD target} of each request received so far. */
  List<String> requestLines() {
    List<String> lines = new ArrayList<>();
    for (RecordedRequest request : requests) {
      lines.add(request.getMethod() + " " + request.getTarget());
    }
    return lines;
  }

  static MockResponse response(int code, String body, String... headers) {
    MockResponse.Builder builder = new MockResponse.Builder().code(code).body(body);
    builder.headers(headersOf(builder.getHeaders(), headers));
    return builder.build();
  }

  static MockResponse response(int code, byte[] body, String... headers) {
    MockResponse.Builder builder =
        new MockResponse.Builder().code(code).body(new okio.Buffer().write(body));
    builder.headers(headersOf(builder.getHeaders(), headers));
    return builder.build();
  }

  private static Headers headersOf(Headers existing, String... namesAndValues) {
    Headers.Builder headers = existing.newBuilder();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      headers.set(namesAndValues[i], namesAndValues[i + 1]);
    }
    return headers.build();
  }

  @Override
  public void close() {
    server.close();
  }
}
