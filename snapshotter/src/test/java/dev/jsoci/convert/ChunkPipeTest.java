package dev.jsoci.convert;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ChunkPipeTest {
  @Test
  void readerThread_getsEveryByteInOrder() throws Exception {
    ChunkPipe pipe = new ChunkPipe(2, 1000);
    byte[] content = TestImages.randomBytes(123_457, 11);
    CompletableFuture<byte[]> read =
        CompletableFuture.supplyAsync(
            () -> {
              try (InputStream in = pipe.newInputStream()) {
                return in.readAllBytes();
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });

    try (OutputStream out = pipe.newOutputStream()) {
      for (int offset = 0; offset < content.length; offset += 777) {
        out.write(content, offset, Math.min(777, content.length - offset));
      }
    }

    assertThat(read.get()).isEqualTo(content);
  }

  @Test
  void write_afterReaderClosed_isDroppedWithoutBlocking() throws IOException {
    ChunkPipe pipe = new ChunkPipe(1, 10);
    pipe.newInputStream().close();

    try (OutputStream out = pipe.newOutputStream()) {
      out.write(new byte[10_000]);
    }

    assertThat(pipe.readerClosed()).isTrue();
  }

  @Test
  void read_afterAbort_fails() {
    ChunkPipe pipe = new ChunkPipe(1, 10);
    pipe.abort();

    IOException e = assertThrows(IOException.class, () -> pipe.newInputStream().read());

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("the blob writer was closed before the content was complete");
  }
}
