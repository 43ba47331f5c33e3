package dev.jsoci.fs.fuse;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ch.qos.logback.classic.Level;
import dev.jsoci.fs.ContentReader;
import dev.jsoci.fs.FileSystemOptions;
import dev.jsoci.fs.Node;
import dev.jsoci.ztoc.ByteString;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads through a mounted layer whose content reader blocks, fails or hangs on purpose. Needs root,
 * /dev/fuse, fusermount and GNU tar; skipped otherwise.
 */
class MountedReadTest {
  private static final int FILES = 16;
  private static final int FILE_SIZE = 256 * 1024;

  @TempDir static Path shared;

  private static TestLayer layer;
  private static Path source;

  @TempDir Path temp;

  private TestMounts mounts;
  private final ExecutorService readers = Executors.newCachedThreadPool();

  @BeforeAll
  static void buildLayer() throws Exception {
    FuseEnvironment.assumeFuseMounts();
    FuseEnvironment.assumeProgram("tar", "tar");
    source = shared.resolve("source");
    Files.createDirectories(source);
    Random random = new Random(3);
    for (int i = 0; i < FILES; i++) {
      byte[] content = new byte[FILE_SIZE];
      random.nextBytes(content);
      Files.write(source.resolve("file" + i), content);
    }
    layer = TestLayer.fromDirectory("sixteen-files", source, shared.resolve("layer.tar"));
  }

  @BeforeEach
  void createMounts() {
    mounts = new TestMounts(temp);
  }

  @AfterEach
  void unmountAll() throws Exception {
    readers.shutdownNow();
    mounts.close();
  }

  /** Returns the range [start, end) of the tar stream that contains a file's bytes. */
  private static long[] dataRange(String name) {
    Node node = layer.tree.find(ByteString.utf8(name)).orElseThrow();
    return new long[] {node.dataOffset(), node.dataOffset() + node.size()};
  }

  @Test
  void read_fileBlockedBelow_othersProceed() throws Exception {
    long[] blockedRange = dataRange("file0");
    CountDownLatch blockedReadStarted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    ContentReader tar = layer.contentReader();
    ContentReader reader =
        (offset, destination) -> {
          if (offset >= blockedRange[0] && offset < blockedRange[1]) {
            blockedReadStarted.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              throw new InterruptedIOException("read of file0 cancelled");
            }
          }
          return tar.read(offset, destination);
        };
    Path mountPoint = temp.resolve("mnt");
    mounts.mount(layer.fileSystem(reader, FileSystemOptions.defaults()), mountPoint);

    Future<byte[]> blocked = readers.submit(() -> Files.readAllBytes(mountPoint.resolve("file0")));
    assertThat(blockedReadStarted.await(10, TimeUnit.SECONDS)).isTrue();
    List<Future<byte[]>> others = new ArrayList<>();
    for (int i = 1; i < FILES; i++) {
      Path file = mountPoint.resolve("file" + i);
      others.add(readers.submit(() -> Files.readAllBytes(file)));
    }

    for (int i = 1; i < FILES; i++) {
      byte[] content = others.get(i - 1).get(20, TimeUnit.SECONDS);
      assertThat(content).isEqualTo(Files.readAllBytes(source.resolve("file" + i)));
    }
    assertThat(blocked.isDone()).isFalse();
    release.countDown();
    assertThat(blocked.get(20, TimeUnit.SECONDS))
        .isEqualTo(Files.readAllBytes(source.resolve("file0")));
  }

  @Test
  void read_manyBlocked_workersGrowThenShrink() throws Exception {
    // The kernel keeps at most 12 background reads (readahead) in flight per mount by default.
    int blockedReads = 8;
    CountDownLatch allBlocked = new CountDownLatch(blockedReads);
    CountDownLatch release = new CountDownLatch(1);
    ContentReader tar = layer.contentReader();
    ContentReader reader =
        (offset, destination) -> {
          allBlocked.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            throw new InterruptedIOException("read cancelled");
          }
          return tar.read(offset, destination);
        };
    Path mountPoint = temp.resolve("mnt");
    FuseMount mount =
        mounts.mount(layer.fileSystem(reader, FileSystemOptions.defaults()), mountPoint);

    List<Future<byte[]>> reads = new ArrayList<>();
    for (int i = 0; i < blockedReads; i++) {
      Path file = mountPoint.resolve("file" + i);
      reads.add(readers.submit(() -> Files.readAllBytes(file)));
    }

    // The reads wait in the reader at once, so each has a worker of its own.
    assertWithMessage("reads waiting in the reader at once")
        .that(allBlocked.await(20, TimeUnit.SECONDS))
        .isTrue();
    assertThat(mount.workerThreads()).isGreaterThan(blockedReads);
    release.countDown();
    for (int i = 0; i < blockedReads; i++) {
      assertThat(reads.get(i).get(20, TimeUnit.SECONDS))
          .isEqualTo(Files.readAllBytes(source.resolve("file" + i)));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (mount.workerThreads() > FuseSessionLoop.MAX_IDLE_WORKERS + 1
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(mount.workerThreads()).isAtMost(FuseSessionLoop.MAX_IDLE_WORKERS + 1);
  }

  /** How the failing reader behaves. */
  private enum Behavior {
    SERVE,
    FAIL,
    HANG
  }

  @Test
  void read_failingReader_ioErrorThenRecovers() throws Exception {
    AtomicReference<Behavior> behavior = new AtomicReference<>(Behavior.FAIL);
    ContentReader tar = layer.contentReader();
    ContentReader reader =
        (offset, destination) -> {
          switch (behavior.get()) {
            case FAIL -> throw new IOException("registry returned 503");
            case HANG -> {
              try {
                new CountDownLatch(1).await();
              } catch (InterruptedException e) {
                throw new InterruptedIOException("read cancelled");
              }
              throw new AssertionError("unreachable");
            }
            default -> {
              return tar.read(offset, destination);
            }
          }
        };
    Duration timeout = Duration.ofSeconds(1);
    FileSystemOptions options = FileSystemOptions.builder().readTimeout(timeout).build();
    Path mountPoint = temp.resolve("mnt");
    mounts.mount(layer.fileSystem(reader, options), mountPoint);
    Path file = mountPoint.resolve("file5");

    try (LogCapture log = new LogCapture(LayerFuseAdapter.class)) {
      IOException failed = assertThrows(IOException.class, () -> Files.readAllBytes(file));
      assertThat(failed).hasMessageThat().contains("Input/output error");

      behavior.set(Behavior.HANG);
      long start = System.nanoTime();
      IOException hung = assertThrows(IOException.class, () -> Files.readAllBytes(file));
      long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
      assertThat(hung).hasMessageThat().contains("Input/output error");
      // The kernel may retry a failed readahead once with a read of its own, each with a
      // deadline of its own.
      assertThat(elapsedMillis).isAtLeast(timeout.toMillis());
      assertThat(elapsedMillis).isLessThan(4 * timeout.toMillis() + 2000);

      behavior.set(Behavior.SERVE);
      assertThat(Files.readAllBytes(file)).isEqualTo(Files.readAllBytes(source.resolve("file5")));

      List<String> warnings = log.messages(Level.WARN);
      assertThat(warnings).hasSize(1);
      assertThat(warnings.get(0))
          .startsWith(
              "returning EIO: op=read path=/file5 layer=sixteen-files error=read of layer"
                  + " sixteen-files at offset ");
      assertThat(warnings.get(0)).contains("registry returned 503");
      // Failures within 10 s of a WARN line go to DEBUG.
      assertThat(
              log.messages(Level.DEBUG).stream().anyMatch(m -> m.contains("timed out after PT1S")))
          .isTrue();
    }
  }

  @Test
  void read_afterUnmount_mountGone() throws Exception {
    Path mountPoint = temp.resolve("mnt");
    FuseMount mount = mounts.mount(layer.fileSystem(FileSystemOptions.defaults()), mountPoint);
    assertThat(Files.readAllBytes(mountPoint.resolve("file1")))
        .isEqualTo(Files.readAllBytes(source.resolve("file1")));

    mount.close();

    assertThat(MountTable.isMounted(mountPoint.toAbsolutePath().normalize())).isFalse();
    assertThat(Files.exists(mountPoint.resolve("file1"))).isFalse();
  }

  @Test
  void read_parallelReadersOfOneFile() throws Exception {
    Path mountPoint = temp.resolve("mnt");
    mounts.mount(layer.fileSystem(FileSystemOptions.defaults()), mountPoint);
    byte[] expected = Files.readAllBytes(source.resolve("file7"));
    List<Future<Boolean>> results = new ArrayList<>();

    for (int i = 0; i < 32; i++) {
      int seed = i;
      results.add(
          readers.submit(
              () -> {
                Random random = new Random(seed);
                try (var channel = Files.newByteChannel(mountPoint.resolve("file7"))) {
                  for (int read = 0; read < 50; read++) {
                    int offset = random.nextInt(FILE_SIZE);
                    ByteBuffer buffer = ByteBuffer.allocate(Math.min(8192, FILE_SIZE - offset));
                    channel.position(offset);
                    channel.read(buffer);
                    byte[] want =
                        java.util.Arrays.copyOfRange(expected, offset, offset + buffer.position());
                    if (!java.util.Arrays.equals(
                        want, java.util.Arrays.copyOf(buffer.array(), buffer.position()))) {
                      return false;
                    }
                  }
                }
                return true;
              }));
    }

    for (Future<Boolean> result : results) {
      assertThat(result.get(60, TimeUnit.SECONDS)).isTrue();
    }
  }
}
