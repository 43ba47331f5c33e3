package dev.jsoci.snapshotter.lazy;

import static com.google.common.truth.Truth.assertThat;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ZtocPrefetcherTest {
  private static final ImageRef IMAGE = ImageRef.parse("registry.test/app:1");

  private static Descriptor ztoc(String name) {
    byte[] content = name.getBytes(StandardCharsets.UTF_8);
    return Descriptor.of("application/octet-stream", Digest.sha256Of(content), content.length);
  }

  @Test
  void prefetch_downloadsNextZtocsWhileOneDecodes() throws Exception {
    List<Descriptor> all = List.of(ztoc("first"), ztoc("second"), ztoc("third"));
    CountDownLatch decoding = new CountDownLatch(1);
    CountDownLatch releaseDecode = new CountDownLatch(1);
    CountDownLatch thirdRead = new CountDownLatch(1);
    ZtocPrefetcher.ZtocReader reader =
        new ZtocPrefetcher.ZtocReader() {
          @Override
          public byte[] read(ImageRef image, Descriptor descriptor) {
            if (descriptor.equals(all.get(2))) {
              thirdRead.countDown();
            }
            return new byte[] {1};
          }

          @Override
          public CheckedZtoc decode(byte[] bytes, Descriptor descriptor) throws IOException {
            decoding.countDown();
            try {
              releaseDecode.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            throw new IOException("not a zTOC: " + descriptor.digest());
          }
        };
    ZtocReads reads = new ZtocReads();
    ZtocPrefetcher prefetcher = new ZtocPrefetcher(reader, reads);
    try {
      prefetcher.prefetchIndex(IMAGE, Digest.sha256Of(new byte[0]), all);

      assertThat(decoding.await(30, TimeUnit.SECONDS)).isTrue();
      // The two download threads took the first two zTOCs. The third download starts while the
      // first zTOC still decodes, and finished downloads no longer count as reads in flight.
      assertThat(thirdRead.await(30, TimeUnit.SECONDS)).isTrue();
      assertThat(reads.awaitNone(Duration.ofSeconds(30))).isTrue();
    } finally {
      releaseDecode.countDown();
      prefetcher.close();
    }
    assertThat(prefetcher.awaitTermination(Duration.ofSeconds(30))).isTrue();
  }
}
