package dev.jsoci.it;

import ch.qos.logback.classic.Level;
import dev.jsoci.snapshotter.grpc.api.snapshots.PrepareSnapshotRequest;
import dev.jsoci.snapshotter.grpc.api.snapshots.SnapshotsGrpc;
import dev.jsoci.snapshotter.grpc.api.snapshots.ViewSnapshotRequest;
import dev.jsoci.testing.LocalRegistry;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.LoggerFactory;

/**
 * A load run against the real daemon: builds an image of random files, pushes it to a loopback
 * docker-registry, converts it with {@code bin/jsoci convert}, starts {@code
 * bin/jsoci-snapshotter}, prepares every layer with the remote-snapshot labels so that the daemon
 * mounts it lazily through FUSE, then lets many reader threads read the mounts at once while the
 * background fetcher runs.
 *
 * <p>Every byte read is compared with the source file it came from: whole files by SHA-256, ranges
 * byte for byte, directory listings by name and size. An operation that takes longer than the hang
 * timeout stops the run with a thread dump of the daemon. The daemon's resident memory ({@code
 * VmRSS}, {@code VmHWM} in {@code /proc/PID/status}) is sampled while it is idle and under load.
 *
 * <p>{@link LoadIT} runs a short version; {@code scripts/bench-load.sh} runs {@link #main} with the
 * full settings.
 */
final class LoadRun {
  /** Size of each read call; libfuse passes reads of at most 128 KiB to the filesystem. */
  private static final int READ_CHUNK_BYTES = 128 * 1024;

  private static final long MIB = 1024 * 1024;

  /**
   * Settings of one run.
   *
   * @param smallFiles files of 0 to {@code smallFileMaxBytes} bytes per layer, in 10 directories
   * @param bigFiles files of {@code bigFileBytes} bytes per layer
   * @param spanSizeBytes span size given to {@code jsoci convert}
   * @param idleWait how long the daemon runs with every layer mounted before the idle sample
   * @param hangTimeout an operation that takes longer counts as a hang and stops the run
   */
  record Settings(
      int layers,
      int readers,
      Duration duration,
      int smallFiles,
      int smallFileMaxBytes,
      int bigFiles,
      int bigFileBytes,
      long spanSizeBytes,
      Duration idleWait,
      Duration hangTimeout) {}

  /**
   * What a run measured.
   *
   * @param reads read calls that returned data, each of at most 128 KiB
   * @param failures operations whose result differed from the source or that failed
   * @param failureMessages the first few failure messages
   * @param threadDump the daemon's thread dump after a hang, or empty
   * @param readLatencyMillis per read call: p50 and p99
   * @param idleRss the daemon's {@code VmRSS} with every layer mounted and no reader
   * @param maxLoadRss the largest {@code VmRSS} sampled under load
   * @param highWaterMark the daemon's {@code VmHWM} at the end of the load
   * @param mountedLayers layers the daemon mounted lazily
   * @param daemonThreads the daemon's thread count under load, at the last sample
   */
  record Result(
      long reads,
      long bytes,
      long wholeFileReads,
      long rangeReads,
      long walks,
      long failures,
      List<String> failureMessages,
      String threadDump,
      double p50Millis,
      double p99Millis,
      long idleRss,
      long maxLoadRss,
      long highWaterMark,
      int mountedLayers,
      int daemonThreads,
      String jvmOptions,
      Duration elapsed) {

    boolean hung() {
      return !threadDump.isEmpty();
    }

    String summary() {
      return String.format(
          "layers=%d reads=%d bytes=%d whole_file_reads=%d range_reads=%d walks=%d failures=%d"
              + " p50_ms=%.3f p99_ms=%.3f rss_idle_mib=%.1f rss_load_max_mib=%.1f hwm_mib=%.1f"
              + " daemon_threads=%d seconds=%.1f hung=%s jvm_options=%s",
          mountedLayers,
          reads,
          bytes,
          wholeFileReads,
          rangeReads,
          walks,
          failures,
          p50Millis,
          p99Millis,
          idleRss / (double) MIB,
          maxLoadRss / (double) MIB,
          highWaterMark / (double) MIB,
          daemonThreads,
          elapsed.toMillis() / 1000.0,
          hung(),
          jvmOptions.isEmpty() ? "none" : jvmOptions);
    }
  }

  /** One file of a layer, at {@code relativePath} in both the source tree and the mount. */
  private record SourceFile(Path source, String relativePath, long size, byte[] sha256) {}

  /** One lazily mounted layer and the tree it was packed from. */
  private record MountedLayer(
      Path mountPoint, Path sourceRoot, List<SourceFile> files, List<String> directories) {}

  private final Settings settings;
  private final Path work;
  private final Path checkout;

  private LoadRun(Settings settings, Path work, Path checkout) {
    this.settings = settings;
    this.work = work;
    this.checkout = checkout;
  }

  /**
   * Runs the whole cycle in {@code work}, an empty directory that the run fills and leaves in
   * place; every process it starts is stopped and every mount is removed before it returns.
   *
   * @param checkout the built checkout whose {@code bin/jsoci-snapshotter} and scripts are used
   */
  static Result run(Settings settings, Path work, Path checkout) throws Exception {
    return new LoadRun(settings, work, checkout).run();
  }

  private Result run() throws Exception {
    List<Path> sources = writeLayers();
    List<String> digests = new ArrayList<>();
    for (Path source : sources) {
      digests.add(packLayer(source));
    }

    try (LocalRegistry registry = LocalRegistry.start(null)) {
      String reference = pushAndConvert(registry.host());
      Daemon daemon = Daemon.start(checkout, work.resolve("daemon"));
      try {
        List<MountedLayer> layers = prepareLayers(daemon, reference, digests, sources);
        return load(daemon, layers);
      } finally {
        daemon.close();
      }
    }
  }

  // Image.

  /** Writes the random files of every layer and returns the layers' source directories. */
  private List<Path> writeLayers() throws IOException {
    List<Path> sources = new ArrayList<>();
    for (int layer = 0; layer < settings.layers(); layer++) {
      Path source = work.resolve("source").resolve(String.format("layer-%02d", layer));
      Random random = new Random(layer);
      for (int i = 0; i < settings.smallFiles(); i++) {
        Path file = source.resolve(String.format("d%d/f%04d", i % 10, i));
        write(file, randomBytes(random, random.nextInt(settings.smallFileMaxBytes() + 1)));
      }
      for (int i = 0; i < settings.bigFiles(); i++) {
        write(source.resolve("big/b" + i), randomBytes(random, settings.bigFileBytes()));
      }
      sources.add(source);
    }
    return sources;
  }

  private static byte[] randomBytes(Random random, int size) {
    byte[] bytes = new byte[size];
    random.nextBytes(bytes);
    return bytes;
  }

  private static void write(Path file, byte[] content) throws IOException {
    Files.createDirectories(file.getParent());
    Files.write(file, content);
  }

  /** Packs one source tree into a gzip tar next to it and returns the blob's digest. */
  private String packLayer(Path source) throws Exception {
    Path blob = source.resolveSibling(source.getFileName() + ".tar.gz");
    Processes.run(
        List.of(
            "bash",
            "-c",
            "set -o pipefail; tar --sort=name --owner=0 --group=0 --numeric-owner -C \"$1\" -cf - ."
                + " | gzip -1 > \"$2\"",
            "pack",
            source.toString(),
            blob.toString()),
        work);
    return "sha256:" + HexFormat.of().formatHex(sha256(blob));
  }

  /** Pushes the image and its SOCI-enabled conversion; returns the converted reference. */
  private String pushAndConvert(String host) throws Exception {
    List<String> layout = new ArrayList<>();
    layout.add("python3");
    layout.add(checkout.resolve("scripts/lib/oci_layout.py").toString());
    layout.add(work.resolve("layout").toString());
    layout.add("load");
    try (Stream<Path> blobs = Files.list(work.resolve("source"))) {
      blobs
          .filter(path -> path.getFileName().toString().endsWith(".tar.gz"))
          .sorted()
          .forEach(path -> layout.add(path.toString()));
    }
    Processes.run(layout, work);

    Processes.run(
        List.of(
            "skopeo",
            "copy",
            "-q",
            "--dest-tls-verify=false",
            "oci:" + work.resolve("layout") + ":load",
            "docker://" + host + "/load:plain"),
        work);

    String reference = host + "/load:soci";
    Processes.Result convert =
        Processes.start(
            List.of(
                checkout.resolve("bin/jsoci").toString(),
                "convert",
                "--plain-http",
                "--min-layer-size",
                "0",
                "--span-size",
                Long.toString(settings.spanSizeBytes()),
                host + "/load:plain",
                reference),
            work);
    if (convert.status() != 0) {
      throw new IOException("jsoci convert failed: " + convert.err() + convert.out());
    }
    return reference;
  }

  // Daemon and mounts.

  /**
   * Prepares each layer with the labels CRI sends, so the daemon mounts it lazily, waits for the
   * mounts through a view of each layer, and returns them in layer order.
   */
  private List<MountedLayer> prepareLayers(
      Daemon daemon, String reference, List<String> digests, List<Path> sources) throws Exception {
    ManagedChannel channel =
        Grpc.newChannelBuilder("unix://" + daemon.socket(), InsecureChannelCredentials.create())
            .build();
    try {
      SnapshotsGrpc.SnapshotsBlockingStub snapshots = SnapshotsGrpc.newBlockingStub(channel);
      for (int layer = 0; layer < digests.size(); layer++) {
        PrepareSnapshotRequest request =
            PrepareSnapshotRequest.newBuilder()
                .setKey("load/" + (layer + 1) + "/extract-" + layer)
                .putLabels("containerd.io/snapshot.ref", "load/layer-" + layer)
                .putLabels("containerd.io/snapshot/cri.image-ref", reference)
                .putLabels("containerd.io/snapshot/cri.layer-digest", digests.get(layer))
                .build();
        try {
          snapshots.withDeadlineAfter(60, TimeUnit.SECONDS).prepare(request);
          throw new IOException(
              "layer " + digests.get(layer) + " was not mounted lazily; see " + daemon.log());
        } catch (StatusRuntimeException e) {
          // The daemon returns ALREADY_EXISTS once it has mounted the layer itself.
          if (e.getStatus().getCode() != Status.Code.ALREADY_EXISTS) {
            throw e;
          }
        }
      }
      // The daemon mounts a committed layer in the background; a view on it waits for the mount,
      // as a container's snapshot does.
      for (int layer = 0; layer < digests.size(); layer++) {
        snapshots
            .withDeadlineAfter(60, TimeUnit.SECONDS)
            .view(
                ViewSnapshotRequest.newBuilder()
                    .setKey("load/view-" + layer)
                    .setParent("load/layer-" + layer)
                    .build());
      }
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    Map<String, Path> mounts = fuseMountsUnder(daemon.directory());
    List<MountedLayer> layers = new ArrayList<>();
    for (int layer = 0; layer < digests.size(); layer++) {
      Path mountPoint = mounts.get(digests.get(layer));
      if (mountPoint == null) {
        throw new IOException(
            "no FUSE mount of layer " + digests.get(layer) + " in /proc/self/mountinfo");
      }
      layers.add(describe(mountPoint, sources.get(layer)));
    }
    return layers;
  }

  /** Returns the FUSE mounts below {@code directory} by their source, the layer digest. */
  static Map<String, Path> fuseMountsUnder(Path directory) throws IOException {
    Map<String, Path> mounts = new LinkedHashMap<>();
    String prefix = directory.toAbsolutePath() + "/";
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] halves = line.split(" - ", 2);
      String[] fields = halves[0].split(" ");
      String[] after = halves[1].split(" ");
      if (fields[4].startsWith(prefix) && after[0].startsWith("fuse")) {
        mounts.put(after[1], Path.of(fields[4]));
      }
    }
    return mounts;
  }

  private static MountedLayer describe(Path mountPoint, Path sourceRoot) throws IOException {
    List<SourceFile> files = new ArrayList<>();
    List<String> directories = new ArrayList<>();
    directories.add("");
    try (Stream<Path> paths = Files.walk(sourceRoot)) {
      for (Path path : paths.sorted().toList()) {
        String relative = sourceRoot.relativize(path).toString();
        if (Files.isDirectory(path) && !relative.isEmpty()) {
          directories.add(relative);
        } else if (Files.isRegularFile(path)) {
          files.add(new SourceFile(path, relative, Files.size(path), sha256(path)));
        }
      }
    }
    return new MountedLayer(mountPoint, sourceRoot, files, directories);
  }

  // Load.

  private Result load(Daemon daemon, List<MountedLayer> layers) throws Exception {
    Thread.sleep(settings.idleWait().toMillis());
    long idleRss = daemon.status("VmRSS");

    Reader[] readers = new Reader[settings.readers()];
    AtomicBoolean stop = new AtomicBoolean();
    ConcurrentLinkedQueue<String> messages = new ConcurrentLinkedQueue<>();
    AtomicLong failures = new AtomicLong();
    long start = System.nanoTime();
    for (int i = 0; i < readers.length; i++) {
      readers[i] = new Reader(i, layers, stop, failures, messages);
      Thread thread = new Thread(readers[i], "load-reader-" + i);
      thread.setDaemon(true);
      thread.start();
    }

    // Sample the daemon and watch for operations that stopped moving.
    long deadline = start + settings.duration().toNanos();
    long maxRss = idleRss;
    int threads = 0;
    String threadDump = "";
    while (System.nanoTime() < deadline) {
      Thread.sleep(500);
      maxRss = Math.max(maxRss, daemon.status("VmRSS"));
      threads = (int) daemon.status("Threads");
      Reader stuck = firstStuck(readers);
      if (stuck != null) {
        failures.incrementAndGet();
        messages.add(
            "reader "
                + stuck.id
                + " has been in "
                + stuck.operation
                + " for more than "
                + settings.hangTimeout().toSeconds()
                + " s");
        threadDump = daemon.threadDump();
        break;
      }
    }
    stop.set(true);
    long joinDeadline = System.nanoTime() + settings.hangTimeout().toNanos();
    while (threadDump.isEmpty() && anyBusy(readers) && System.nanoTime() < joinDeadline) {
      Thread.sleep(50);
    }
    if (threadDump.isEmpty() && anyBusy(readers)) {
      failures.incrementAndGet();
      messages.add("readers did not finish within " + settings.hangTimeout().toSeconds() + " s");
      threadDump = daemon.threadDump();
    }
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);
    long highWaterMark = daemon.status("VmHWM");

    long reads = 0;
    long bytes = 0;
    long wholeFiles = 0;
    long ranges = 0;
    long walks = 0;
    long latencyCount = 0;
    for (Reader reader : readers) {
      reads += reader.reads;
      bytes += reader.bytes;
      wholeFiles += reader.wholeFiles;
      ranges += reader.ranges;
      walks += reader.walks;
      latencyCount += reader.latencyCount;
    }
    long[] latencies = new long[(int) latencyCount];
    int filled = 0;
    for (Reader reader : readers) {
      System.arraycopy(reader.latencies, 0, latencies, filled, reader.latencyCount);
      filled += reader.latencyCount;
    }
    Arrays.sort(latencies);
    return new Result(
        reads,
        bytes,
        wholeFiles,
        ranges,
        walks,
        failures.get(),
        messages.stream().limit(20).toList(),
        threadDump,
        percentileMillis(latencies, 0.50),
        percentileMillis(latencies, 0.99),
        idleRss,
        maxRss,
        highWaterMark,
        layers.size(),
        threads,
        daemon.jvmOptions(),
        elapsed);
  }

  private Reader firstStuck(Reader[] readers) {
    long now = System.nanoTime();
    for (Reader reader : readers) {
      long started = reader.operationStart;
      if (started != 0 && now - started > settings.hangTimeout().toNanos()) {
        return reader;
      }
    }
    return null;
  }

  private static boolean anyBusy(Reader[] readers) {
    for (Reader reader : readers) {
      if (!reader.finished) {
        return true;
      }
    }
    return false;
  }

  private static double percentileMillis(long[] sortedNanos, double fraction) {
    if (sortedNanos.length == 0) {
      return Double.NaN;
    }
    int index =
        (int) Math.min(sortedNanos.length - 1, Math.ceil(fraction * sortedNanos.length) - 1);
    return sortedNanos[Math.max(index, 0)] / 1e6;
  }

  /**
   * One reader thread: repeats a random operation on a random layer until the stop flag is set. Its
   * counters are read by the main thread only after {@link #finished} is set.
   */
  private static final class Reader implements Runnable {
    final int id;
    private final List<MountedLayer> layers;
    private final AtomicBoolean stop;
    private final AtomicLong failures;
    private final ConcurrentLinkedQueue<String> messages;
    private final Random random;
    private final ByteBuffer buffer = ByteBuffer.allocate(READ_CHUNK_BYTES);

    volatile long operationStart;
    volatile String operation = "";
    volatile boolean finished;

    long reads;
    long bytes;
    long wholeFiles;
    long ranges;
    long walks;
    long[] latencies = new long[1024];
    int latencyCount;

    Reader(
        int id,
        List<MountedLayer> layers,
        AtomicBoolean stop,
        AtomicLong failures,
        ConcurrentLinkedQueue<String> messages) {
      this.id = id;
      this.layers = layers;
      this.stop = stop;
      this.failures = failures;
      this.messages = messages;
      this.random = new Random(1000 + id);
    }

    @Override
    public void run() {
      try {
        while (!stop.get()) {
          MountedLayer layer = layers.get(random.nextInt(layers.size()));
          int choice = random.nextInt(10);
          try {
            if (choice < 4) {
              readWholeFile(layer, layer.files().get(random.nextInt(layer.files().size())));
            } else if (choice < 8) {
              readRange(layer, layer.files().get(random.nextInt(layer.files().size())));
            } else {
              walk(layer, layer.directories().get(random.nextInt(layer.directories().size())));
            }
          } catch (IOException | RuntimeException e) {
            fail(operation + ": " + e);
          }
          operationStart = 0;
        }
      } finally {
        finished = true;
      }
    }

    private void begin(String description) {
      operation = description;
      operationStart = System.nanoTime();
    }

    private void fail(String message) {
      failures.incrementAndGet();
      if (messages.size() < 100) {
        messages.add(message);
      }
    }

    private void readWholeFile(MountedLayer layer, SourceFile file) throws IOException {
      Path path = layer.mountPoint().resolve(file.relativePath());
      begin("whole-file read of " + path);
      MessageDigest digest = newSha256();
      long total = 0;
      try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
        while (true) {
          buffer.clear();
          int count = timedRead(channel, total);
          if (count <= 0) {
            break;
          }
          digest.update(buffer.array(), 0, count);
          total += count;
        }
      }
      wholeFiles++;
      if (total != file.size() || !Arrays.equals(digest.digest(), file.sha256())) {
        fail(
            operation
                + ": read "
                + total
                + " bytes whose SHA-256 differs from the source's "
                + file.size()
                + " bytes");
      }
    }

    private void readRange(MountedLayer layer, SourceFile file) throws IOException {
      Path path = layer.mountPoint().resolve(file.relativePath());
      long offset = file.size() == 0 ? 0 : (long) (random.nextDouble() * file.size());
      int length = 1 + random.nextInt(4 * READ_CHUNK_BYTES);
      begin("range read of " + path + " at " + offset + " length " + length);
      ByteBuffer actual = ByteBuffer.allocate(length);
      try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
        while (actual.hasRemaining()) {
          buffer.clear().limit(Math.min(READ_CHUNK_BYTES, actual.remaining()));
          int count = timedRead(channel, offset + actual.position());
          if (count <= 0) {
            break;
          }
          actual.put(buffer.array(), 0, count);
        }
      }
      ranges++;
      ByteBuffer expected = ByteBuffer.allocate(length);
      try (FileChannel channel = FileChannel.open(file.source(), StandardOpenOption.READ)) {
        while (expected.hasRemaining()
            && channel.read(expected, offset + expected.position()) > 0) {
          // Reads until the range is full or the file ends.
        }
      }
      if (!actual.flip().equals(expected.flip())) {
        fail(
            operation
                + ": "
                + actual.remaining()
                + " bytes differ from the source's "
                + expected.remaining());
      }
    }

    private int timedRead(FileChannel channel, long position) throws IOException {
      long started = System.nanoTime();
      int count = channel.read(buffer, position);
      if (count > 0) {
        recordLatency(System.nanoTime() - started);
        reads++;
        bytes += count;
      }
      return count;
    }

    private void recordLatency(long nanos) {
      if (latencyCount == latencies.length) {
        latencies = Arrays.copyOf(latencies, latencies.length * 2);
      }
      latencies[latencyCount++] = nanos;
    }

    /** Lists one directory of the mount and stats every entry, comparing with the source. */
    private void walk(MountedLayer layer, String directory) throws IOException {
      Path mounted = layer.mountPoint().resolve(directory);
      begin("listing of " + mounted);
      Map<String, Long> actual = listing(mounted);
      Map<String, Long> expected = listing(layer.sourceRoot().resolve(directory));
      walks++;
      if (!actual.equals(expected)) {
        fail(
            operation
                + ": listing "
                + actual.keySet()
                + " differs from the source's "
                + expected.keySet()
                + " (or a size differs)");
      }
    }

    /** Returns the names in {@code directory} with the size of each file, -1 for directories. */
    private static Map<String, Long> listing(Path directory) throws IOException {
      Map<String, Long> entries = new TreeMap<>();
      try (Stream<Path> children = Files.list(directory)) {
        for (Path child : children.toList()) {
          long size = Files.isDirectory(child) ? -1 : Files.size(child);
          entries.put(child.getFileName().toString(), size);
        }
      }
      return entries;
    }
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  private static byte[] sha256(Path file) throws IOException {
    MessageDigest digest = newSha256();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] chunk = new byte[1 << 16];
      for (int count; (count = in.read(chunk)) > 0; ) {
        digest.update(chunk, 0, count);
      }
    }
    return digest.digest();
  }

  /**
   * {@code bin/jsoci-snapshotter} of the checkout, started with its root, socket and config in
   * {@code directory}. The launcher execs the JVM, so the process is the daemon itself, and {@code
   * JSOCI_JAVA_OPTS} from the environment reaches it.
   */
  static final class Daemon implements AutoCloseable {
    private final Path directory;
    private final Process process;

    private Daemon(Path directory, Process process) {
      this.directory = directory;
      this.process = process;
    }

    static Daemon start(Path checkout, Path directory) throws Exception {
      Files.createDirectories(directory);
      // With a silence period of 1 ms the background fetcher runs from the first mount on, as
      // the load it adds to the readers' is part of what this run measures (0 means the default,
      // 30 s).
      Files.writeString(
          directory.resolve("config.toml"), "[background_fetch]\nsilence_period_msec = 1\n");
      Path launcher = checkout.resolve("bin/jsoci-snapshotter");
      Path socket = directory.resolve("run/jsoci.sock");
      Process process =
          new ProcessBuilder(
                  launcher.toString(),
                  "--root",
                  directory.resolve("root").toString(),
                  "--address",
                  socket.toString(),
                  "--config",
                  directory.resolve("config.toml").toString())
              .redirectErrorStream(true)
              .redirectOutput(directory.resolve("daemon.log").toFile())
              .start();
      Daemon daemon = new Daemon(directory, process);
      Processes.Result check =
          Processes.start(
              List.of(
                  launcher.toString(),
                  "--check",
                  "--check-timeout",
                  "60",
                  "--address",
                  socket.toString()),
              directory);
      if (check.status() != 0) {
        daemon.close();
        throw new IOException("the daemon did not start: " + check.err() + daemon.log());
      }
      return daemon;
    }

    Path directory() {
      return directory;
    }

    Path socket() {
      return directory.resolve("run/jsoci.sock");
    }

    long pid() {
      return process.pid();
    }

    String log() throws IOException {
      return Files.readString(directory.resolve("daemon.log"));
    }

    /** Returns the JVM options on the daemon's command line that start with -X or -D, joined. */
    String jvmOptions() throws IOException {
      byte[] commandLine = Files.readAllBytes(Path.of("/proc/" + pid() + "/cmdline"));
      List<String> options = new ArrayList<>();
      for (String argument : new String(commandLine, StandardCharsets.UTF_8).split("\0")) {
        if (argument.startsWith("-X") || argument.startsWith("-D")) {
          options.add(argument);
        }
      }
      return String.join(",", options);
    }

    /**
     * Returns a field of {@code /proc/PID/status}: bytes for the {@code Vm*} fields, which the
     * kernel prints in KiB, and the plain number for others such as {@code Threads}.
     */
    long status(String field) throws IOException {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid() + "/status"))) {
        if (line.startsWith(field + ":")) {
          String[] parts = line.substring(field.length() + 1).trim().split("\\s+");
          long value = Long.parseLong(parts[0]);
          return parts.length > 1 && parts[1].equals("kB") ? value * 1024 : value;
        }
      }
      throw new IOException("no " + field + " in /proc/" + pid() + "/status");
    }

    /**
     * Returns the daemon's thread dump from {@code jstack}, or, when jstack fails, from the JVM
     * itself after SIGQUIT, as printed in the daemon log.
     */
    String threadDump() {
      Path jstack = Path.of(System.getProperty("java.home"), "bin", "jstack");
      try {
        Processes.Result result =
            Processes.start(List.of(jstack.toString(), "-l", Long.toString(pid())), directory);
        if (result.status() == 0 && !result.out().isBlank()) {
          return result.out();
        }
      } catch (IOException | InterruptedException e) {
        // Falls back to SIGQUIT below.
      }
      try {
        Processes.start(List.of("kill", "-QUIT", Long.toString(pid())), directory);
        Thread.sleep(2000);
        return "jstack failed; the daemon log after SIGQUIT:\n" + log();
      } catch (IOException | InterruptedException e) {
        return "jstack and SIGQUIT failed: " + e;
      }
    }

    /**
     * Stops the daemon with SIGTERM, or SIGKILL after 30 s, then detaches every FUSE mount that is
     * left below its directory.
     */
    @Override
    public void close() throws Exception {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
      for (Path mountPoint : fuseMountsUnder(directory).values()) {
        Processes.start(List.of("fusermount", "-u", "-z", mountPoint.toString()), directory);
      }
    }
  }

  /**
   * Runs one load cycle and prints its summary: {@code LoadRun WORK_DIR CHECKOUT LAYERS READERS
   * SECONDS BIG_FILE_MIB}. Exits with status 1 when a read failed or the run hung.
   */
  public static void main(String[] args) throws Exception {
    if (args.length != 6) {
      System.err.println("usage: LoadRun WORK_DIR CHECKOUT LAYERS READERS SECONDS BIG_FILE_MIB");
      System.exit(2);
    }
    Settings settings =
        new Settings(
            Integer.parseInt(args[2]),
            Integer.parseInt(args[3]),
            Duration.ofSeconds(Long.parseLong(args[4])),
            300,
            32 * 1024,
            3,
            Integer.parseInt(args[5]) * (int) MIB,
            1 << 20,
            Duration.ofSeconds(10),
            Duration.ofSeconds(60));
    // The registry client, gRPC and Netty log at debug level by default; the summary is the output.
    ((ch.qos.logback.classic.Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
        .setLevel(Level.WARN);
    Path work = Path.of(args[0]);
    Files.createDirectories(work);
    Result result;
    try {
      result = run(settings, work, Path.of(args[1]));
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    System.out.println(result.summary());
    for (String message : result.failureMessages()) {
      System.out.println("failure: " + message);
    }
    if (result.hung()) {
      System.out.println("daemon thread dump:\n" + result.threadDump());
    }
    System.exit(result.failures() == 0 ? 0 : 1);
  }
}
