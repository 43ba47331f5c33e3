package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jsoci.oci.Digest;
import dev.jsoci.snapshotter.grpc.api.snapshots.Info;
import dev.jsoci.testing.LocalRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of a node running jsoci-snapshotter as containerd's proxy snapshotter {@code jsoci}, each
 * with the behaviour users get: the registry stopped or hung during a read, a zTOC with wrong
 * bytes, a bearer token that expires, a span with wrong bytes, a disk cache smaller than what is
 * read, the daemon killed under load, and containerd restarted.
 *
 * <p>Two images of {@link SampleImage} with different contents, converted with 1 MiB spans so that
 * each test reads spans no earlier test fetched: image A straight from the registry, image B
 * through a {@link FaultProxy} that requires bearer tokens and can flip bytes. Files are read
 * directly from the daemon's FUSE mounts, where the errno is visible, and through containers.
 * Background fetching is off, so a span is fetched only when a read needs it. The tests run in
 * order and share one registry, proxy, daemon and containerd.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DaemonFaultIT {
  private static final int SPAN_BYTES = 1 << 20;
  private static final long FETCHING_TIMEOUT_SECONDS = 4;
  private static final long CACHE_MAX_BYTES = 3L << 20;

  /**
   * The maximum time a read(2) of an uncached page may take to fail. After a failed readahead the
   * kernel sends the page's read again, and each FUSE read waits up to fetching_timeout_sec. The
   * last 3 s allow for a busy machine.
   */
  private static final long MAX_FAILURE_MILLIS = 2 * FETCHING_TIMEOUT_SECONDS * 1000 + 3000;

  private static final String EIO_MESSAGE = "Input/output error";

  /**
   * The failures that readers of a mount get while its daemon is down, as exception class and errno
   * text: ENOTCONN, and ECONNABORTED for requests in flight when the daemon died. ENOENT (without
   * reason text) comes while the restarted daemon has cleared the dead mount and not yet mounted
   * the layer again, because the mountpoint is an empty directory then.
   */
  private static final Set<String> READER_ERRORS =
      Set.of(
          "NoSuchFileException: null",
          "IOException: Transport endpoint is not connected",
          "FileSystemException: Transport endpoint is not connected",
          "IOException: Software caused connection abort",
          "FileSystemException: Software caused connection abort");

  private static final String REMOTE_LABEL = "containerd.io/snapshot/remote";
  private static final String STARGZ_DIGEST_LABEL = "containerd.io/snapshot/remote/stargz.digest";
  private static final String SOCI_INDEX_LABEL =
      "containerd.io/snapshot/remote/has.soci.index.digest";

  @TempDir static Path work;
  private static LocalRegistry registry;
  private static FaultProxy proxy;
  private static SampleImage imageA;
  private static SampleImage imageB;
  private static SampleImage imageC;
  private static LocalDaemon daemon;
  private static LocalContainerd containerd;
  private static String referenceA;
  private static String referenceB;
  private static String referenceC;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(Processes.isRoot(), "containerd, runc, FUSE and overlay mounts need root");
    assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing");
    assumeTrue(LocalContainerd.isInstalled(), "containerd, ctr or runc is not installed");
    assumeTrue(
        Files.isExecutable(LocalContainerd.CTR_REMOTE),
        "ctr-remote (stargz-snapshotter) is not installed");
    assumeTrue(LocalRegistry.isInstalled(), "docker-registry is not installed");
    assumeTrue(SampleImage.toolsInstalled(), "busybox-static, tar or gzip is not installed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed");

    registry = LocalRegistry.start(null);
    imageA = SampleImage.build(Files.createDirectories(work.resolve("a")), 1);
    imageB = SampleImage.build(Files.createDirectories(work.resolve("b")), 11);
    imageC = SampleImage.build(Files.createDirectories(work.resolve("c")), 21);
    referenceA = pushAndConvert(imageA, "app-a");
    pushAndConvert(imageB, "app-b");
    pushAndConvert(imageC, "app-c");
    proxy = FaultProxy.start(registry.url());
    referenceB = proxy.host() + "/app-b-soci:v1";
    referenceC = proxy.host() + "/app-c-soci:v1";

    daemon =
        LocalDaemon.start(
            "jsoci-faults-",
            "filesystem_cache_max_bytes = "
                + CACHE_MAX_BYTES
                + "\n[blob]\n  fetching_timeout_sec = "
                + FETCHING_TIMEOUT_SECONDS
                + "\n  max_span_verification_retries = 1\n"
                + "[background_fetch]\n  disable = true\n");
    containerd = LocalContainerd.start(daemon.socket());
    rpull(referenceA);
  }

  @AfterAll
  static void stop() throws Exception {
    try (AutoCloseable registryCloser = registry;
        AutoCloseable proxyCloser = proxy;
        AutoCloseable daemonCloser = daemon;
        AutoCloseable containerdCloser = containerd) {
      // Closed in reverse order: containerd, the daemon, the proxy, the registry.
    }
  }

  /** Pushes {@code image} as {@code NAME:v1} and converts it to {@code NAME-soci:v1}. */
  private static String pushAndConvert(SampleImage image, String name) throws Exception {
    String plain = registry.host() + "/" + name + ":v1";
    String soci = registry.host() + "/" + name + "-soci:v1";
    image.pushWithSkopeo(plain);
    Processes.Result converted =
        Processes.jsoci(
            work,
            "convert",
            "--plain-http",
            "--span-size",
            Integer.toString(SPAN_BYTES),
            plain,
            soci);
    assertWithMessage("jsoci convert: " + converted.err()).that(converted.status()).isEqualTo(0);
    return soci;
  }

  private static String logs() throws IOException {
    return "\ndaemon log:\n" + daemon.log() + "\ncontainerd log:\n" + containerd.log();
  }

  private static String ctr(String... args) throws Exception {
    Processes.Result result = containerd.ctr(args);
    assertWithMessage("ctr " + String.join(" ", args) + ": " + result.err() + logs())
        .that(result.status())
        .isEqualTo(0);
    return result.out();
  }

  private static void rpull(String reference) throws Exception {
    Processes.Result result = containerd.rpull("jsoci", reference);
    assertWithMessage("ctr-remote images rpull " + reference + ": " + result.err() + logs())
        .that(result.status())
        .isEqualTo(0);
  }

  /** Runs {@code busybox ARGS} in a new container of {@code reference} and returns its output. */
  private static String run(String reference, String name, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(List.of("run", "--rm", "--snapshotter", "jsoci", reference, name));
    command.add("/bin/busybox");
    command.addAll(List.of(args));
    return ctr(command.toArray(String[]::new));
  }

  private static String sha256(SampleImage image, String file) {
    return Digest.sha256Of(image.files.get(file)).encoded();
  }

  /** Returns jsoci's FUSE mounts under the daemon's directory: mountpoint to layer digest. */
  private static Map<String, String> fuseMounts() throws IOException {
    Map<String, String> mounts = new TreeMap<>();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      List<String> fields = Arrays.asList(line.split(" "));
      int separator = fields.indexOf("-");
      if (separator < 0 || separator + 2 >= fields.size()) {
        continue;
      }
      String mountpoint = fields.get(4);
      if (mountpoint.startsWith(daemon.directory() + "/")
          && fields.get(separator + 1).equals("fuse.jsoci")) {
        mounts.put(mountpoint, fields.get(separator + 2));
      }
    }
    return mounts;
  }

  /**
   * Returns the path of {@code file} in the FUSE mount of {@code image}'s layer {@code layer}. The
   * daemon mounts a layer after its {@code Prepare} has returned, so this waits up to 30 s for it,
   * as a container's {@code Prepare} would.
   */
  private static Path mountedFile(SampleImage image, String layer, String file) throws Exception {
    String digest = image.layers.get(layer).digest().toString();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    do {
      for (Map.Entry<String, String> mount : fuseMounts().entrySet()) {
        if (mount.getValue().equals(digest)) {
          return Path.of(mount.getKey()).resolve(file);
        }
      }
      Thread.sleep(50);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("layer " + digest + " is not mounted: " + fuseMounts() + logs());
  }

  /** Reads {@code length} bytes of {@code file} at {@code offset} in one read call. */
  private static byte[] read(Path file, long offset, int length) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer buffer = ByteBuffer.allocate(length);
      while (buffer.hasRemaining()) {
        if (channel.read(buffer, offset + buffer.position()) < 0) {
          break;
        }
      }
      return Arrays.copyOf(buffer.array(), buffer.position());
    }
  }

  private static byte[] expected(SampleImage image, String file, long offset, int length) {
    return Arrays.copyOfRange(image.files.get(file), (int) offset, (int) offset + length);
  }

  /** Returns the lines of the daemon's latest log that contain every one of {@code parts}. */
  private static List<String> logLines(String... parts) throws IOException {
    return daemon.log().lines().filter(line -> Stream.of(parts).allMatch(line::contains)).toList();
  }

  @Test
  @Order(1)
  void registryStopped_readFailsWithEioThenSucceeds() throws Exception {
    Path big = mountedFile(imageA, "big", "data/big.bin");
    byte[] first = read(big, 0, 4096);
    long offset = 8L * SPAN_BYTES + 1000;

    registry.stop();
    long startNanos = System.nanoTime();
    IOException failure;
    try {
      failure = assertThrows(IOException.class, () -> read(big, offset, 4096));
    } finally {
      registry.restart();
    }
    long failedAfterMillis = (System.nanoTime() - startNanos) / 1_000_000;
    byte[] again = read(big, offset, 4096);

    System.out.println("registry stopped: the read failed after " + failedAfterMillis + " ms");
    assertThat(first).isEqualTo(expected(imageA, "data/big.bin", 0, 4096));
    assertThat(failure).hasMessageThat().contains(EIO_MESSAGE);
    assertThat(failedAfterMillis).isLessThan(MAX_FAILURE_MILLIS);
    assertWithMessage("EIO warning" + logs())
        .that(logLines("returning EIO", imageA.layers.get("big").digest().toString()))
        .isNotEmpty();
    assertThat(again).isEqualTo(expected(imageA, "data/big.bin", offset, 4096));
  }

  @Test
  @Order(2)
  void registryHung_readTimesOutThenSucceeds() throws Exception {
    Path big = mountedFile(imageA, "big", "data/big.bin");
    long offset = 10L * SPAN_BYTES + 1000;

    registry.pause();
    long startNanos = System.nanoTime();
    IOException failure;
    try {
      failure = assertThrows(IOException.class, () -> read(big, offset, 4096));
    } finally {
      registry.resume();
    }
    long failedAfterMillis = (System.nanoTime() - startNanos) / 1_000_000;
    byte[] again = read(big, offset, 4096);

    System.out.println("registry paused: the read failed after " + failedAfterMillis + " ms");
    assertThat(failure).hasMessageThat().contains(EIO_MESSAGE);
    assertThat(failedAfterMillis).isLessThan(MAX_FAILURE_MILLIS);
    assertWithMessage("timeout in the log" + logs())
        .that(logLines("timed out after PT" + FETCHING_TIMEOUT_SECONDS + "S"))
        .isNotEmpty();
    assertThat(again).isEqualTo(expected(imageA, "data/big.bin", offset, 4096));
  }

  @Test
  @Order(3)
  void diskCacheFull_evictsAndServesEveryRead() throws Exception {
    int failuresBefore = logLines("returning EIO").size();
    String bigChecksum = run(referenceA, "cache-big", "sha256sum", "/data/big.bin");
    String plainChecksum = run(referenceA, "cache-plain", "sha256sum", "/data/plain.bin");
    Path cache = daemon.directory().resolve("root").resolve("spans");
    long fileBytes;
    long spanFiles;
    try (Stream<Path> paths = Files.walk(cache)) {
      List<Path> files = paths.filter(Files::isRegularFile).toList();
      spanFiles = files.size();
      long sum = 0;
      for (Path file : files) {
        sum += Files.size(file);
      }
      fileBytes = sum;
    }
    Processes.Result du = Processes.run(List.of("du", "-sb", cache.toString()), work);
    long duBytes = Long.parseLong(du.out().split("\\s+")[0]);

    System.out.println(
        "disk cache: " + spanFiles + " span files, " + fileBytes + " bytes; du -sb " + duBytes);
    assertThat(bigChecksum).startsWith(sha256(imageA, "data/big.bin") + " ");
    assertThat(plainChecksum).startsWith(sha256(imageA, "data/plain.bin") + " ");
    assertThat(fileBytes).isAtMost(CACHE_MAX_BYTES);
    assertThat(fileBytes).isGreaterThan(0L);
    // du also counts the cache's directories, a few KiB each.
    assertThat(duBytes).isAtMost(CACHE_MAX_BYTES + (64 << 10));
    assertWithMessage("reads that failed" + logs())
        .that(logLines("returning EIO"))
        .hasSize(failuresBefore);
  }

  @Test
  @Order(4)
  void corruptZtoc_daemonUnpacksLayer_logsOnce() throws Exception {
    String ztoc = ztocDigest(registry.host() + "/app-b-soci:v1", imageB, "plain");
    // containerd 1.6 downloads the SOCI index's blobs itself during rpull and fails the whole
    // pull on a wrong digest, so only the daemon's reads of the zTOC get the flipped byte.
    proxy.corruptBlob(ztoc, -1, true);
    String plainChecksum;
    try {
      rpull(referenceB);
      // The index lists the zTOC, so the layer is committed before its zTOC is read: the wrong
      // digest shows when the layer is mounted, which a container waits for.
      plainChecksum = run(referenceB, "fallback-plain", "sha256sum", "/data/plain.bin");
    } finally {
      proxy.stopCorrupting();
    }
    // The lazy big layer is read only in small parts here, so that later tests find spans unread.
    String message = run(referenceB, "fallback-message", "cat", "/etc/message");
    String plainLayer = imageB.layers.get("plain").digest().toString();
    Set<String> remoteLayers = new TreeSet<>();
    Set<String> unpackedLayers = new TreeSet<>();
    for (Info info : daemon.snapshots("labels.\"" + SOCI_INDEX_LABEL + "\"")) {
      String layer = info.getLabelsOrDefault(STARGZ_DIGEST_LABEL, "");
      (info.containsLabels(REMOTE_LABEL) ? remoteLayers : unpackedLayers).add(layer);
    }
    List<String> contentDigests =
        ctr("content", "ls").lines().skip(1).map(line -> line.split("\\s+")[0]).toList();

    assertThat(plainChecksum).startsWith(sha256(imageB, "data/plain.bin") + " ");
    assertThat(message).isEqualTo(SampleImage.MESSAGE);
    assertWithMessage("remote layers" + logs())
        .that(remoteLayers)
        .contains(imageB.layers.get("big").digest().toString());
    assertThat(unpackedLayers).contains(plainLayer);
    assertThat(remoteLayers).doesNotContain(plainLayer);
    // The daemon downloaded the layer, not containerd.
    assertThat(contentDigests).doesNotContain(plainLayer);
    assertWithMessage("log lines naming the zTOC" + logs())
        .that(logLines(ztoc, "\"level\":\"warning\""))
        .hasSize(1);
  }

  /**
   * Returns the zTOC digest of {@code image}'s layer {@code layer}, from {@code jsoci index info}.
   */
  private static String ztocDigest(String reference, SampleImage image, String layer)
      throws Exception {
    Processes.Result info = Processes.jsoci(work, "index", "info", "--plain-http", reference);
    assertWithMessage("jsoci index info: " + info.err()).that(info.status()).isEqualTo(0);
    JsonNode json = new ObjectMapper().readTree(info.out());
    String layerDigest = image.layers.get(layer).digest().toString();
    for (JsonNode node : json.get("layers")) {
      if (node.get("digest").asText().equals(layerDigest)) {
        return node.get("ztoc").get("digest").asText();
      }
    }
    throw new AssertionError("no zTOC for layer " + layerDigest + ": " + info.out());
  }

  @Test
  @Order(5)
  void expiredToken_isRefreshedAndReadSucceeds() throws Exception {
    Path big = mountedFile(imageB, "big", "data/big.bin");
    byte[] first = read(big, 0, 4096);
    int issuedBefore = proxy.issuedTokens();
    int rejectedBefore = proxy.rejectedTokens();
    long offset = 8L * SPAN_BYTES + 1000;

    proxy.expireTokens();
    byte[] afterExpiry = read(big, offset, 4096);

    assertThat(first).isEqualTo(expected(imageB, "data/big.bin", 0, 4096));
    assertThat(afterExpiry).isEqualTo(expected(imageB, "data/big.bin", offset, 4096));
    assertThat(proxy.rejectedTokens()).isGreaterThan(rejectedBefore);
    assertThat(proxy.issuedTokens()).isGreaterThan(issuedBefore);
  }

  @Test
  @Order(6)
  void spanDigestMismatch_isFetchedAgainThenEio() throws Exception {
    Path big = mountedFile(imageB, "big", "data/big.bin");
    String layer = imageB.layers.get("big").digest().toString();
    long badOffset = 10L * SPAN_BYTES + 1000;
    long goodOffset = 6L * SPAN_BYTES + 1000;

    int rangesBefore = proxy.blobRanges().size();
    proxy.corruptBlob(layer, -1, true);
    IOException failure;
    List<String> ranges;
    try {
      failure = assertThrows(IOException.class, () -> read(big, badOffset, 4096));
      ranges = proxy.blobRanges().subList(rangesBefore, proxy.blobRanges().size());
      // One bad response: the second fetch of the span returns the right bytes.
      proxy.corruptBlob(layer, 1, true);
      byte[] retried = read(big, goodOffset, 4096);
      assertThat(retried).isEqualTo(expected(imageB, "data/big.bin", goodOffset, 4096));
    } finally {
      proxy.stopCorrupting();
    }
    byte[] again = read(big, badOffset, 4096);

    assertThat(failure).hasMessageThat().contains(EIO_MESSAGE);
    // A request may cover several spans. Only its first span gets the flipped byte, so that span
    // is fetched again alone, with a request that starts at the same offset.
    Map<String, Integer> requestsByStart = new TreeMap<>();
    for (String range : ranges) {
      requestsByStart.merge(range.substring(0, range.indexOf('-')), 1, Integer::sum);
    }
    assertWithMessage("requests by start: " + ranges)
        .that(requestsByStart.values().stream().anyMatch(count -> count >= 2))
        .isTrue();
    assertWithMessage("mismatch in the log" + logs())
        .that(logLines("returning EIO", layer, "digest"))
        .isNotEmpty();
    assertThat(again).isEqualTo(expected(imageB, "data/big.bin", badOffset, 4096));
  }

  @Test
  @Order(7)
  void daemonKilledUnderLoad_readersRecover() throws Exception {
    List<String> snapshotsBefore = snapshotNames();
    Map<String, String> mountsBefore = fuseMounts();
    List<Path> files =
        List.of(
            mountedFile(imageA, "big", "data/big.bin"),
            mountedFile(imageA, "plain", "data/plain.bin"),
            mountedFile(imageB, "big", "data/big.bin"));
    List<byte[]> contents =
        List.of(
            imageA.files.get("data/big.bin"),
            imageA.files.get("data/plain.bin"),
            imageB.files.get("data/big.bin"));

    List<String> nativeCopiesBefore;
    List<String> nativeCopiesAfter;
    AtomicBoolean stopReaders = new AtomicBoolean();
    AtomicLong restartedAtNanos = new AtomicLong(Long.MAX_VALUE);
    Set<String> errors = ConcurrentHashMap.newKeySet();
    List<String> wrongReads = new CopyOnWriteArrayList<>();
    Map<Integer, Long> lastSuccessNanos = new ConcurrentHashMap<>();
    List<Thread> readers = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      int reader = i;
      Thread thread =
          new Thread(
              () ->
                  readUntilStopped(
                      reader,
                      files.get(reader),
                      contents.get(reader),
                      stopReaders,
                      errors,
                      wrongReads,
                      lastSuccessNanos));
      thread.start();
      readers.add(thread);
    }
    try {
      awaitReaders(lastSuccessNanos, files.size(), 0);
      nativeCopiesBefore = daemon.nativeLibraryCopies();
      daemon.kill();
      Thread.sleep(1000);
      daemon.start();
      nativeCopiesAfter = daemon.nativeLibraryCopies();
      restartedAtNanos.set(System.nanoTime());
      containerd.awaitSnapshotter("jsoci");
      awaitReaders(lastSuccessNanos, files.size(), restartedAtNanos.get());
    } finally {
      stopReaders.set(true);
      for (Thread thread : readers) {
        thread.join(30_000);
      }
    }
    String checksum = run(referenceA, "after-kill", "sha256sum", "/data/big.bin");
    if (checksum.isEmpty()) {
      // NOTE: in one CI run, ctr run exited 0 here with no output at all. Whether ctr, containerd
      // or the daemon lost it is not known, and a second container must print the right checksum.
      checksum = run(referenceA, "after-kill-again", "sha256sum", "/data/big.bin");
    }

    System.out.println("errors seen by readers while the daemon was down: " + errors);
    assertThat(wrongReads).isEmpty();
    assertThat(errors).isNotEmpty();
    for (String error : errors) {
      assertWithMessage("errors seen: " + errors).that(error).isIn(READER_ERRORS);
    }
    assertThat(snapshotNames()).isEqualTo(snapshotsBefore);
    for (String key : containerdSnapshotKeys()) {
      ctr("snapshots", "--snapshotter", "jsoci", "info", key);
    }
    assertThat(fuseMounts()).isEqualTo(mountsBefore);
    assertThat(checksum).startsWith(sha256(imageA, "data/big.bin") + " ");
    // The killed daemon's copy of the SQLite library is removed at the restart, not left behind.
    assertThat(nativeCopiesBefore).hasSize(1);
    assertThat(nativeCopiesAfter).hasSize(1);
    assertThat(nativeCopiesAfter).isNotEqualTo(nativeCopiesBefore);
  }

  @Test
  @Order(8)
  void daemonKilledTwice_restoresEveryMount() throws Exception {
    List<String> snapshotsBefore = snapshotNames();
    Map<String, String> mountsBefore = fuseMounts();

    // Each kill leaves every FUSE mount dead (ENOTCONN), and each start must clear and remount
    // them, also when the previous start did so already.
    for (int round = 0; round < 2; round++) {
      daemon.kill();
      daemon.start();
      containerd.awaitSnapshotter("jsoci");
    }
    byte[] bytes = read(mountedFile(imageA, "big", "data/big.bin"), 4096, 4096);

    assertWithMessage("daemon log" + logs())
        .that(logLines("cannot restore remote snapshot"))
        .isEmpty();
    assertThat(fuseMounts()).isEqualTo(mountsBefore);
    assertThat(snapshotNames()).isEqualTo(snapshotsBefore);
    assertThat(bytes).isEqualTo(expected(imageA, "data/big.bin", 4096, 4096));
  }

  @Test
  @Order(9)
  void secondDaemonOnSameRoot_stopsNamingTheFirst() throws Exception {
    List<String> snapshotsBefore = snapshotNames();

    Processes.Result second = daemon.startSecondOnSameRoot();

    assertThat(second.status()).isEqualTo(1);
    assertThat(second.err().strip())
        .isEqualTo(
            "jsoci-snapshotter: root "
                + daemon.directory().resolve("root")
                + " is in use by another jsoci-snapshotter (PID "
                + daemon.pid()
                + "); stop that daemon first, or give this one another --root");
    assertThat(Files.exists(daemon.directory().resolve("second.sock"))).isFalse();
    assertThat(snapshotNames()).isEqualTo(snapshotsBefore);
  }

  /**
   * Reads 64 KiB at random offsets of {@code file}, opening it for each read as a reader that
   * retries does, and records failures by message and wrong bytes until {@code stop} is set.
   */
  private static void readUntilStopped(
      int reader,
      Path file,
      byte[] content,
      AtomicBoolean stop,
      Set<String> errors,
      List<String> wrongReads,
      Map<Integer, Long> lastSuccessNanos) {
    Random random = new Random(reader);
    int length = 64 << 10;
    while (!stop.get()) {
      long offset = random.nextInt(content.length - length);
      try {
        byte[] bytes = read(file, offset, length);
        if (!Arrays.equals(
            bytes, Arrays.copyOfRange(content, (int) offset, (int) offset + length))) {
          wrongReads.add(file + " at " + offset);
        }
        lastSuccessNanos.put(reader, System.nanoTime());
      } catch (FileSystemException e) {
        // The message of a FileSystemException starts with the path; the reason is the errno text.
        errors.add(e.getClass().getSimpleName() + ": " + e.getReason());
        pause(100);
      } catch (IOException e) {
        errors.add(e.getClass().getSimpleName() + ": " + e.getMessage());
        pause(100);
      }
    }
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Waits up to 60 s until every reader has read successfully after {@code sinceNanos}. */
  private static void awaitReaders(
      Map<Integer, Long> lastSuccessNanos, int readers, long sinceNanos) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (System.nanoTime() < deadline) {
      long done = lastSuccessNanos.values().stream().filter(nanos -> nanos > sinceNanos).count();
      if (done == readers) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("readers did not all succeed within 60 s" + logs());
  }

  /** Returns the names of the daemon's committed snapshots: the image layers. */
  private static List<String> snapshotNames() throws Exception {
    return daemon.snapshots("kind==committed").stream().map(Info::getName).sorted().toList();
  }

  /** Returns the keys that {@code ctr snapshots ls} lists for jsoci: the first column. */
  private static List<String> containerdSnapshotKeys() throws Exception {
    return ctr("snapshots", "--snapshotter", "jsoci", "ls")
        .lines()
        .skip(1)
        .map(line -> line.split("\\s+")[0])
        .sorted()
        .toList();
  }

  @Test
  @Order(10)
  void containerdRestarted_snapshotsSurviveAndContainersRun() throws Exception {
    List<String> keysBefore = containerdSnapshotKeys();
    List<String> snapshotsBefore = snapshotNames();
    Map<String, String> mountsBefore = fuseMounts();

    containerd.restart();
    containerd.awaitSnapshotter("jsoci");
    String message = run(referenceA, "after-containerd", "cat", "/etc/message");
    String checksum = run(referenceB, "after-containerd-b", "sha256sum", "/data/big.bin");

    assertThat(containerdSnapshotKeys()).containsAtLeastElementsIn(keysBefore);
    assertThat(snapshotNames()).containsAtLeastElementsIn(snapshotsBefore);
    assertThat(fuseMounts()).isEqualTo(mountsBefore);
    assertThat(message).isEqualTo(SampleImage.MESSAGE);
    assertThat(checksum).startsWith(sha256(imageB, "data/big.bin") + " ");
  }

  @Test
  @Order(11)
  void sigtermWhileLayersMount_keepsThemLazy() throws Exception {
    // The top layer: the pull returns while the daemon still waits for its zTOC, below the read
    // timeout, and the daemon is stopped then.
    String topLayer = imageC.layers.get("plain").digest().toString();
    String ztoc = ztocDigest(registry.host() + "/app-c-soci:v1", imageC, "plain");
    proxy.delayBlobForDaemon(ztoc, Duration.ofSeconds(2));
    int status;
    try {
      rpull(referenceC);
      status = daemon.stop();
    } finally {
      proxy.stopDelaying();
    }
    String stopLog = daemon.log();
    daemon.start();
    containerd.awaitSnapshotter("jsoci");
    String checksum = run(referenceC, "after-sigterm", "sha256sum", "/data/plain.bin");
    Set<String> remoteLayers = new TreeSet<>();
    for (Info info : daemon.snapshots("labels.\"" + REMOTE_LABEL + "\"")) {
      remoteLayers.add(info.getLabelsOrDefault(STARGZ_DIGEST_LABEL, ""));
    }

    assertWithMessage("exit status of the stopped daemon" + logs()).that(status).isAnyOf(0, 143);
    assertWithMessage("daemon log before the restart")
        .that(stopLog)
        .contains("stopped mounting remote snapshot: the daemon is stopping");
    assertWithMessage("daemon log before the restart: " + stopLog)
        .that(
            stopLog
                .lines()
                .filter(line -> line.contains("unpacking it in the snapshotter"))
                .filter(line -> line.contains(topLayer))
                .toList())
        .isEmpty();
    assertThat(remoteLayers).contains(topLayer);
    assertThat(checksum).startsWith(sha256(imageC, "data/plain.bin") + " ");
  }
}
