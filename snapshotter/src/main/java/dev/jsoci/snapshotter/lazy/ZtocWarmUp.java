package dev.jsoci.snapshotter.lazy;

import dev.jsoci.fs.LayerTree;
import dev.jsoci.oci.Digest;
import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.TocIndex;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.Zinfos;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocBuilder;
import dev.jsoci.ztoc.ZtocCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the code of a lazy mount on a synthetic layer half a second after the daemon has started, so
 * that the JIT has compiled it before the first pull.
 *
 * <p>A pull waits for each layer's zTOC to be decoded, checked and turned into a file tree. In a
 * new JVM that code runs interpreted or half compiled: on the benchmark machine the first zTOC of
 * the cold-start image (5 MB, 5416 files) took 242 ms, and 22 ms after this warm-up. On a node that
 * has just booted, the first pull is the one a user waits for. The warm-up builds a gzip layer of
 * {@value #DIRECTORIES} directories of {@value #FILES_PER_DIRECTORY} small files and its zTOC, then
 * decodes, checks and inflates it {@value #ROUNDS} times, hashing its spans as span fetches do. It
 * takes about a second of one core and touches no file or socket.
 */
public final class ZtocWarmUp {
  private static final Logger LOG = LoggerFactory.getLogger(ZtocWarmUp.class);

  private static final int DIRECTORIES = 64;
  private static final int FILES_PER_DIRECTORY = 64;
  private static final int ROUNDS = 12;
  private static final long SPAN_SIZE = 128 << 10;
  private static final int BLOCK = 512;
  private static final String SOURCE = "the warm-up layer";
  private static final Duration START_DELAY = Duration.ofMillis(500);

  private ZtocWarmUp() {}

  /** Starts the warm-up on a daemon thread, {@link #START_DELAY} from now, and returns at once. */
  public static void startInBackground() {
    Thread thread = new Thread(ZtocWarmUp::run, "jsoci-warm-up");
    thread.setDaemon(true);
    thread.start();
  }

  private static void run() {
    try {
      // Run at once, the warm-up shared the two cores of the benchmark machine with the daemon's
      // first gRPC calls and delayed them by about 250 ms. After half a second it did not.
      Thread.sleep(START_DELAY.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    long startNanos = System.nanoTime();
    try {
      int entries = warmUp();
      LOG.atDebug()
          .addKeyValue("entries", entries)
          .addKeyValue("rounds", ROUNDS)
          .addKeyValue("ms", (System.nanoTime() - startNanos) / 1_000_000)
          .log("warmed up the zTOC and span code");
    } catch (IOException | RuntimeException e) {
      // Only the first pull's speed depends on the warm-up, so a failure is no reason to stop.
      LOG.atDebug().addKeyValue("error", e.toString()).log("zTOC warm-up failed");
    }
  }

  /** Runs every round on the calling thread and returns the number of entries in the zTOC. */
  static int warmUp() throws IOException {
    byte[] layer = gzip(tar());
    Ztoc built =
        new ZtocBuilder(SPAN_SIZE, "jsoci warm-up").build(new ByteArrayInputStream(layer), SOURCE);
    byte[] encoded = ZtocCodec.encode(built);
    byte[] inflated = new byte[0];
    int entryCount = 0;
    for (int round = 0; round < ROUNDS; round++) {
      // As a mount reads a zTOC: decode, check the entries and checkpoints, build the tree.
      Ztoc ztoc = ZtocCodec.decode(encoded, SOURCE);
      TocIndex entries = TocIndex.of(ztoc, SOURCE);
      Zinfo zinfo = Zinfos.of(ztoc, SOURCE);
      LayerTree.of(entries, SOURCE);
      entryCount = entries.entries().size();

      // As a span fetch does: check the compressed span's digest, then inflate the span.
      for (int id = 0; id <= zinfo.maxSpanId(); id++) {
        Span span = zinfo.span(id);
        byte[] compressed =
            Arrays.copyOfRange(layer, (int) span.compressedStart(), (int) span.compressedEnd());
        Digest.sha256Of(compressed);
        int length = (int) Math.max(0, span.uncompressedLength());
        if (inflated.length < length) {
          inflated = new byte[length];
        }
        if (length > 0) {
          zinfo.decompress(compressed, id, span.uncompressedStart(), inflated, length);
        }
      }
    }
    return entryCount;
  }

  /**
   * Returns a ustar archive of the directories and their files of random letters, with a symbolic
   * link in each directory.
   */
  private static byte[] tar() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Random random = new Random(DIRECTORIES);
    for (int d = 0; d < DIRECTORIES; d++) {
      String directory = String.format("warm-up/dir%02d/", d);
      writeHeader(out, directory, '5', 0, "");
      for (int f = 0; f < FILES_PER_DIRECTORY; f++) {
        byte[] content = new byte[64 + random.nextInt(2048)];
        for (int i = 0; i < content.length; i++) {
          content[i] = (byte) ('a' + random.nextInt(26));
        }
        writeHeader(out, directory + String.format("file%02d.txt", f), '0', content.length, "");
        out.writeBytes(content);
        out.writeBytes(new byte[padding(content.length)]);
      }
      writeHeader(out, directory + "link", '2', 0, "file00.txt");
    }
    out.writeBytes(new byte[2 * BLOCK]);
    return out.toByteArray();
  }

  /**
   * Writes a ustar header (POSIX.1-1988 field layout): mode 0755 for directories, 0644 otherwise,
   * owner 0:0.
   */
  private static void writeHeader(
      ByteArrayOutputStream out, String name, char type, long size, String linkName) {
    byte[] header = new byte[BLOCK];
    put(header, 0, name);
    put(header, 100, type == '5' ? "0000755" : "0000644");
    put(header, 108, "0000000");
    put(header, 116, "0000000");
    put(header, 124, String.format("%011o", size));
    put(header, 136, String.format("%011o", 1_700_000_000L));
    header[156] = (byte) type;
    put(header, 157, linkName);
    put(header, 257, "ustar");
    put(header, 263, "00");
    // The checksum is the byte sum with the checksum field itself counted as spaces.
    Arrays.fill(header, 148, 156, (byte) ' ');
    int sum = 0;
    for (byte b : header) {
      sum += b & 0xff;
    }
    put(header, 148, String.format("%06o\0", sum));
    out.writeBytes(header);
  }

  private static void put(byte[] header, int offset, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(bytes, 0, header, offset, bytes.length);
  }

  private static int padding(int size) {
    return (BLOCK - size % BLOCK) % BLOCK;
  }

  private static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip =
        new GZIPOutputStream(out) {
          {
            def.setLevel(Deflater.BEST_SPEED);
          }
        }) {
      gzip.write(data);
    }
    return out.toByteArray();
  }
}
