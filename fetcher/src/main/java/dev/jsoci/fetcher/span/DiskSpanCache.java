package dev.jsoci.fetcher.span;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.jsoci.oci.Digest;
import java.io.IOException;
import java.io.FileInputStream;
import java.io.FileNotFoundException;
import java.io.FileOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compressed spans on disk under a root directory, capped in bytes; the least recently used files
 * are deleted first. It stores compressed bytes rather than inflated ones because they are smaller
 * and can be checked against the zTOC's span digest on every load.
 *
 * <h2>Layout</h2>
 *
 * <pre>
 * ROOT/tmp/UUID.tmp                         a span being written
 * ROOT/spans/ALGORITHM/HEX/SPAN_ID          one span of layer ALGORITHM:HEX, SPAN_ID in decimal
 * </pre>
 *
 * <h2>Span file format</h2>
 *
 * <p>Integers are big-endian:
 *
 * <ul>
 *   <li>4 bytes: the magic {@code JSPN};
 *   <li>int32: the format version, 1;
 *   <li>int64: the span's compressed start, its offset in the layer blob;
 *   <li>int64: the payload length {@code L};
 *   <li>32 bytes: SHA-256 of the payload;
 *   <li>{@code L} bytes: the payload, the span's compressed bytes exactly as in the blob.
 * </ul>
 *
 * <h2>Crash safety</h2>
 *
 * <p>A file is written under {@code tmp/} and renamed into place atomically, so a reader never sees
 * a file still being written. Files are not synced before the rename, so after a power loss a
 * renamed file may be short or contain garbage. The length and digest in the header catch that.
 * {@link #open} empties {@code tmp/} and deletes every span file whose name, header, size or digest
 * does not check, and {@link #load} checks each file again before returning it.
 *
 * <p>Thread-safe. One lock guards the index of files and the byte total; file I/O runs outside it.
 */
final class DiskSpanCache {
  private static final Logger logger = LoggerFactory.getLogger(DiskSpanCache.class);

  static final int HEADER_BYTES = 4 + 4 + 8 + 8 + 32;
  private static final int MAGIC = 0x4a53504e; // "JSPN"
  private static final int FORMAT_VERSION = 1;
  private static final Pattern SPAN_FILE_NAME = Pattern.compile("0|[1-9][0-9]{0,8}");

  /** A span file: the layer and the span id its path names. */
  private record FileKey(Digest layer, int spanId) {}

  private final Path root;
  private final Path tmpDirectory;
  private final Path spansDirectory;
  private final long maxBytes;
  private final SpanListener listener;

  /** Every span file, least recently used first, with its size in bytes. */
  @GuardedBy("this")
  private final LinkedHashMap<FileKey, Long> files = new LinkedHashMap<>(64, 0.75f, true);

  @GuardedBy("this")
  private long totalBytes;

  private DiskSpanCache(Path root, long maxBytes, SpanListener listener) {
    this.root = root;
    this.listener = listener;
    this.tmpDirectory = root.resolve("tmp");
    this.spansDirectory = root.resolve("spans");
    this.maxBytes = maxBytes;
  }

  /**
   * Opens the cache under {@code root}, creating it when missing, and discards what a crash left:
   * files under {@code tmp/}, and span files that are truncated, corrupt or misnamed. Reads and
   * hashes every span file, so it takes time in proportion to the cache's size.
   *
   * @param maxBytes the cap on the bytes of all span files, headers included; when the files found
   *     exceed it, the least recently modified are deleted
   * @throws IOException if the directories cannot be created or listed
   */
  static DiskSpanCache open(Path root, long maxBytes) throws IOException {
    return open(root, maxBytes, SpanListener.NONE);
  }

  /**
   * Opens the cache like {@link #open(Path, long)}, reporting each span file deleted to stay within
   * {@code maxBytes} to {@code listener}.
   *
   * @throws IOException if the directories cannot be created or listed
   */
  static DiskSpanCache open(Path root, long maxBytes, SpanListener listener) throws IOException {
    if (maxBytes < 0) {
      throw new IllegalArgumentException("maxBytes must not be negative, found " + maxBytes);
    }
    DiskSpanCache cache = new DiskSpanCache(root, maxBytes, listener);
    Files.createDirectories(cache.tmpDirectory);
    Files.createDirectories(cache.spansDirectory);
    cache.discardTemporaryFiles();
    cache.indexSpanFiles();
    return cache;
  }

  private void discardTemporaryFiles() throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(tmpDirectory)) {
      for (Path entry : entries) {
        logger.debug("discarding unfinished span file path={}", entry);
        deleteRecursively(entry);
      }
    }
  }

  /** Walks {@code spans/ALGORITHM/HEX/SPAN_ID}, keeps the files that check, deletes the rest. */
  private void indexSpanFiles() throws IOException {
    record Found(FileKey key, long sizeBytes, FileTime modified) {}
    List<Found> found = new ArrayList<>();
    for (Path algorithmDirectory : list(spansDirectory)) {
      for (Path layerDirectory : list(algorithmDirectory)) {
        Digest layer = layerOf(algorithmDirectory, layerDirectory);
        if (layer == null) {
          logger.warn("discarding unexpected entry in the span cache path={}", layerDirectory);
          deleteRecursively(layerDirectory);
          continue;
        }
        for (Path file : list(layerDirectory)) {
          String name = file.getFileName().toString();
          String problem =
              SPAN_FILE_NAME.matcher(name).matches()
                      && Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)
                  ? problemWith(readFile(file), -1, -1, null)
                  : "not a span file name";
          if (problem != null) {
            logger.warn("discarding span cache file path={} reason={}", file, problem);
            deleteRecursively(file);
            continue;
          }
          found.add(
              new Found(
                  new FileKey(layer, Integer.parseInt(name)),
                  Files.size(file),
                  Files.getLastModifiedTime(file)));
        }
      }
    }

    found.sort(Comparator.comparing(Found::modified));
    List<FileKey> evicted;
    synchronized (this) {
      for (Found file : found) {
        files.put(file.key(), file.sizeBytes());
        totalBytes += file.sizeBytes();
      }
      evicted = evictOverCap(null);
    }
    deleteAll(evicted);
  }

  private static List<Path> list(Path directory) throws IOException {
    if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS)) {
      deleteRecursively(directory);
      return List.of();
    }
    try (Stream<Path> entries = Files.list(directory)) {
      return entries.sorted().toList();
    }
  }

  private static @Nullable Digest layerOf(Path algorithmDirectory, Path layerDirectory) {
    if (!Files.isDirectory(layerDirectory, LinkOption.NOFOLLOW_LINKS)) {
      return null;
    }
    try {
      return new Digest(
          algorithmDirectory.getFileName().toString(), layerDirectory.getFileName().toString());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** Returns the path of the span's file. */
  Path pathOf(SpanKey key) {
    return pathOf(new FileKey(key.layer(), key.spanId()));
  }

  private Path pathOf(FileKey key) {
    return spansDirectory
        .resolve(key.layer().algorithm())
        .resolve(key.layer().encoded())
        .resolve(Integer.toString(key.spanId()));
  }

  /** Returns whether a file for the layer's span id is indexed, whatever span it holds. */
  synchronized boolean contains(Digest layer, int spanId) {
    return files.containsKey(new FileKey(layer, spanId));
  }

  /**
   * Returns the compressed bytes of the span, or null when no file contains them. A file that does
   * not check (wrong range, length or digest) is deleted and reported as a miss. Blocks on file
   * I/O.
   *
   * @param expectedDigest the zTOC's digest of the span, {@code sha256:<hex>}, or null to check the
   *     payload against the file's own digest only
   */
  byte @Nullable [] load(SpanKey key, @Nullable String expectedDigest) {
    FileKey fileKey = new FileKey(key.layer(), key.spanId());
    synchronized (this) {
      if (files.get(fileKey) == null) {
        return null;
      }
    }

    Path path = pathOf(fileKey);
    byte[] bytes;
    try {
      bytes = readFile(path);
    } catch (NoSuchFileException e) {
      forget(fileKey);
      return null;
    } catch (IOException e) {
      logger.warn("cannot read span cache file, fetching the span instead path={}", path, e);
      return null;
    }

    String problem =
        problemWith(
            bytes, key.span().compressedStart(), key.span().compressedLength(), expectedDigest);
    if (problem != null) {
      logger.warn("discarding span cache file path={} reason={}", path, problem);
      forget(fileKey);
      deleteQuietly(path);
      return null;
    }
    try {
      Files.setLastModifiedTime(path, FileTime.fromMillis(System.currentTimeMillis()));
    } catch (IOException e) {
      // Only the eviction order after a restart depends on the time; the span is still valid.
      logger.debug("cannot touch span cache file path={}", path, e);
    }
    byte[] payload = new byte[bytes.length - HEADER_BYTES];
    System.arraycopy(bytes, HEADER_BYTES, payload, 0, payload.length);
    return payload;
  }

  /**
   * Stores the compressed bytes of the span, replacing any file of the same layer and span id, then
   * deletes the least recently used files until the total is within the cap. A span larger than the
   * cap is not stored. Blocks on file I/O.
   *
   * @throws IOException if the file cannot be written; the cache stays consistent
   */
  void store(SpanKey key, byte[] compressed) throws IOException {
    long fileBytes = (long) HEADER_BYTES + compressed.length;
    if (fileBytes > maxBytes) {
      return;
    }

    // Write the whole file under tmp/, then rename it into place.
    FileKey fileKey = new FileKey(key.layer(), key.spanId());
    Path target = pathOf(fileKey);
    Path tmp = tmpDirectory.resolve(UUID.randomUUID() + ".tmp");
    try {
      // FileOutputStream, like readFile, copies through memory that is freed after each call.
      Files.createFile(tmp);
      try (OutputStream out = new FileOutputStream(tmp.toFile())) {
        out.write(header(key.span().compressedStart(), compressed));
        out.write(compressed);
      }
      Files.createDirectories(target.getParent());
      moveAtomically(tmp, target);
    } catch (IOException | RuntimeException e) {
      deleteQuietly(tmp);
      throw e;
    }

    List<FileKey> evicted;
    synchronized (this) {
      Long previous = files.put(fileKey, fileBytes);
      totalBytes += fileBytes - (previous == null ? 0 : previous);
      evicted = evictOverCap(fileKey);
    }
    deleteAll(evicted);
  }

  /**
   * Reads a whole span file. Files.readAllBytes would read through a temporary direct buffer of the
   * file's size, which the calling thread then keeps. With hundreds of FUSE threads those buffers
   * exhaust -XX:MaxDirectMemorySize, so this reads with FileInputStream, which copies through
   * memory freed after each call.
   *
   * @throws NoSuchFileException if the file does not exist
   */
  static byte[] readFile(Path path) throws IOException {
    try (FileInputStream in = new FileInputStream(path.toFile())) {
      return in.readAllBytes();
    } catch (FileNotFoundException e) {
      if (Files.notExists(path, LinkOption.NOFOLLOW_LINKS)) {
        throw new NoSuchFileException(path.toString());
      }
      throw e;
    }
  }

  private static void moveAtomically(Path source, Path target) throws IOException {
    try {
      Files.move(
          source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException(
          "cannot rename "
              + source
              + " to "
              + target
              + " atomically; keep the span cache on one"
              + " file system",
          e);
    }
  }

  /** Removes index entries, least recently used first, until the total fits the cap. */
  @GuardedBy("this")
  private List<FileKey> evictOverCap(@Nullable FileKey keep) {
    List<FileKey> evicted = new ArrayList<>();
    Iterator<Map.Entry<FileKey, Long>> eldest = files.entrySet().iterator();
    while (totalBytes > maxBytes && eldest.hasNext()) {
      Map.Entry<FileKey, Long> entry = eldest.next();
      if (entry.getKey().equals(keep)) {
        continue;
      }
      totalBytes -= entry.getValue();
      evicted.add(entry.getKey());
      eldest.remove();
    }
    return evicted;
  }

  private synchronized void forget(FileKey key) {
    Long size = files.remove(key);
    if (size != null) {
      totalBytes -= size;
    }
  }

  private void deleteAll(List<FileKey> evicted) {
    if (!evicted.isEmpty()) {
      listener.cacheEvicted(SpanListener.Cache.DISK, evicted.size());
    }
    for (FileKey key : evicted) {
      logger.trace("evicting span cache file layer={} span={}", key.layer(), key.spanId());
      deleteQuietly(pathOf(key));
    }
  }

  /** Returns the bytes of all indexed span files, headers included. */
  synchronized long sizeBytes() {
    return totalBytes;
  }

  /** Returns the number of indexed span files. */
  synchronized int fileCount() {
    return files.size();
  }

  Path root() {
    return root;
  }

  private static byte[] header(long compressedStart, byte[] payload) {
    ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
    header.putInt(MAGIC).putInt(FORMAT_VERSION).putLong(compressedStart).putLong(payload.length);
    header.put(sha256(payload, 0, payload.length));
    return header.array();
  }

  /**
   * Returns what is wrong with a span file's bytes, or null when they check.
   *
   * @param compressedStart the expected start, or -1 for any
   * @param length the expected payload length, or -1 for any
   * @param expectedDigest the expected payload digest, or null for the header's
   */
  private static @Nullable String problemWith(
      byte[] bytes, long compressedStart, long length, @Nullable String expectedDigest) {
    if (bytes.length < HEADER_BYTES) {
      return "file is "
          + bytes.length
          + " bytes, shorter than the "
          + HEADER_BYTES
          + "-byte header";
    }
    ByteBuffer header = ByteBuffer.wrap(bytes, 0, HEADER_BYTES);
    int magic = header.getInt();
    int version = header.getInt();
    long start = header.getLong();
    long payloadLength = header.getLong();
    if (magic != MAGIC || version != FORMAT_VERSION) {
      return "not a version " + FORMAT_VERSION + " span file";
    }
    if (payloadLength != bytes.length - HEADER_BYTES) {
      return "header gives "
          + payloadLength
          + " payload bytes, file has "
          + (bytes.length - HEADER_BYTES);
    }
    if (compressedStart >= 0 && start != compressedStart) {
      return "span starts at " + start + ", the ztoc's span at " + compressedStart;
    }
    if (length >= 0 && payloadLength != length) {
      return "span has " + payloadLength + " bytes, the ztoc's span " + length;
    }
    byte[] recorded = new byte[32];
    header.get(recorded);
    byte[] actual = sha256(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES);
    String actualDigest = "sha256:" + HexFormat.of().formatHex(actual);
    if (!Arrays.equals(actual, recorded)) {
      return "payload digest " + actualDigest + " differs from the header's";
    }
    if (expectedDigest != null && !actualDigest.equals(expectedDigest)) {
      return "payload digest " + actualDigest + " differs from the ztoc's " + expectedDigest;
    }
    return null;
  }

  private static byte[] sha256(byte[] bytes, int offset, int length) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(bytes, offset, length);
      return digest.digest();
    } catch (NoSuchAlgorithmException e) {
      // Every Java SE platform must provide SHA-256 (MessageDigest Javadoc).
      throw new IllegalStateException("the JDK does not provide SHA-256", e);
    }
  }

  private static void deleteQuietly(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      logger.warn("cannot delete span cache file path={}", path, e);
    }
  }

  private static void deleteRecursively(Path path) throws IOException {
    if (!Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
      Files.deleteIfExists(path);
      return;
    }
    try (Stream<Path> walk = Files.walk(path)) {
      for (Path entry : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(entry);
      }
    }
  }
}
