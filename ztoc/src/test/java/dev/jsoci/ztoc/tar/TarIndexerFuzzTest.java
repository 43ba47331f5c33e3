package dev.jsoci.ztoc.tar;

import static com.google.common.truth.Truth.assertWithMessage;
import static dev.jsoci.ztoc.tar.TarBuilder.base256;
import static dev.jsoci.ztoc.tar.TarBuilder.bytes;
import static dev.jsoci.ztoc.tar.TarBuilder.header;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.jsoci.ztoc.LayerFormatException;
import dev.jsoci.ztoc.tar.TarBuilder.Format;
import dev.jsoci.ztoc.tar.TarBuilder.PaxRecordBytes;
import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Feeds the indexer random and mutated archives. Each must give a result or a {@link
 * LayerFormatException}: no other exception, no hang and no allocation driven by a size field.
 */
class TarIndexerFuzzTest {
  private static final int ITERATIONS = 20_000;

  /** Allocation allowed per archive: the 1 MiB meta header limit plus generous slack. */
  private static final long MAX_ALLOCATED_BYTES = 32L << 20;

  private static final byte[] TYPEFLAGS = bytes("0123456\0gxLKSVMDN7AXz");
  private static final int[][] NUMERIC_FIELDS = {
    {100, 8}, {108, 8}, {116, 8}, {124, 12}, {136, 12}, {329, 8}, {337, 8}, {345, 12}, {476, 12}
  };

  /** An archive to mutate and the offsets of its header blocks. */
  private record Seed(byte[] tar, List<Integer> headerOffsets) {}

  @Test
  void index_mutatedArchives_failCleanly() {
    List<Seed> seeds = seeds();
    Random random = new Random(0x50C1);
    com.sun.management.ThreadMXBean threads = allocationCounter();

    assertTimeoutPreemptively(
        Duration.ofMinutes(2),
        () -> {
          for (int i = 0; i < ITERATIONS; i++) {
            byte[] tar =
                i % 4 == 0 ? randomArchive(random) : mutate(seeds.get(i % seeds.size()), random);
            long allocatedBefore = threads == null ? 0 : threads.getCurrentThreadAllocatedBytes();
            try {
              TarIndexer.index(new ByteArrayInputStream(tar), "fuzz");
            } catch (LayerFormatException expected) {
              // A rejected archive is a valid outcome.
            } catch (Exception | Error e) {
              throw new AssertionError(
                  "iteration " + i + " threw " + e + " for " + Arrays.toString(tar), e);
            }
            if (threads != null) {
              long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
              assertWithMessage("bytes allocated in iteration %s", i)
                  .that(allocated)
                  .isLessThan(MAX_ALLOCATED_BYTES);
            }
          }
        });
  }

  private static com.sun.management.ThreadMXBean allocationCounter() {
    if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean threads
        && threads.isThreadAllocatedMemorySupported()
        && threads.isThreadAllocatedMemoryEnabled()) {
      return threads;
    }
    return null;
  }

  private static List<Seed> seeds() {
    List<TarBuilder> builders = new ArrayList<>();
    builders.add(
        new TarBuilder()
            .header(header("dir/", '5').mode(0755))
            .file("dir/a", 700)
            .header(header("dir/l", '2').linkname("a"))
            .end());
    builders.add(
        new TarBuilder()
            .pax(
                PaxRecordBytes.of("path", "pax/name"),
                PaxRecordBytes.of("mtime", "1700000000.5"),
                PaxRecordBytes.of("size", "30"),
                new PaxRecordBytes(
                    bytes("SCHILY.xattr.security.capability"), new byte[] {1, 0, (byte) 0xff}))
            .entry(TarBuilder.fileHeader("short", 0), TarBuilder.pattern(30))
            .end());
    builders.add(
        new TarBuilder()
            .longName(bytes("gnu/" + "n".repeat(150)))
            .longLinkname(bytes("t".repeat(120)))
            .header(header("x", '1').format(Format.GNU))
            .end()
            .padTo(10240));
    builders.add(
        new TarBuilder()
            .entry(header("v7file", '\0').format(Format.V7).size(5), bytes("hello"))
            .entry(TarBuilder.fileHeader("star", 1).format(Format.STAR).prefix("p"), bytes("s"))
            .header(header("dev", '3').devices(1, 3).raw(116, base256(-7, 8)))
            .header(header("sized-link", '1').size(9000))
            .end());
    builders.add(
        new TarBuilder()
            .pax(
                PaxRecordBytes.of("GNU.sparse.major", "1"),
                PaxRecordBytes.of("GNU.sparse.minor", "0"))
            .file("sparse", 100)
            .end());

    List<Seed> seeds = new ArrayList<>();
    for (TarBuilder builder : builders) {
      seeds.add(new Seed(builder.toByteArray(), builder.headerOffsets()));
    }
    return seeds;
  }

  private static byte[] mutate(Seed seed, Random random) {
    byte[] tar = seed.tar().clone();
    int mutations = 1 + random.nextInt(4);
    for (int m = 0; m < mutations; m++) {
      List<Integer> headers = new ArrayList<>();
      for (int offset : seed.headerOffsets()) {
        if (offset + TarBuilder.BLOCK <= tar.length) {
          headers.add(offset);
        }
      }
      if (headers.isEmpty()) {
        break;
      }
      int header = headers.get(random.nextInt(headers.size()));
      switch (random.nextInt(8)) {
        case 0:
          tar[random.nextInt(tar.length)] = (byte) random.nextInt(256);
          break;
        case 1:
          tar[header + random.nextInt(TarBuilder.BLOCK)] = (byte) random.nextInt(256);
          break;
        case 2:
          tar[header + 156] = TYPEFLAGS[random.nextInt(TYPEFLAGS.length)];
          break;
        case 3:
          writeNumericField(tar, header, random);
          break;
        case 4:
          tar = Arrays.copyOf(tar, random.nextInt(tar.length + 1));
          break;
        case 5:
          // Mutate the first data block, which holds the records of pax and GNU meta headers.
          if (header + 2 * TarBuilder.BLOCK <= tar.length) {
            byte[] alphabet = bytes("0123456789 =\n\0");
            tar[header + TarBuilder.BLOCK + random.nextInt(64)] =
                alphabet[random.nextInt(alphabet.length)];
          }
          break;
        case 6:
          int cut = random.nextInt(tar.length + 1);
          int length = random.nextInt(1024);
          byte[] shifted = new byte[tar.length + length];
          System.arraycopy(tar, 0, shifted, 0, cut);
          System.arraycopy(tar, cut, shifted, cut + length, tar.length - cut);
          tar = shifted;
          break;
        default:
          tar = Arrays.copyOf(tar, tar.length + random.nextInt(2048));
          break;
      }
    }
    // Most mutations should get past the checksum to reach the field and record parsers.
    if (random.nextInt(10) < 8) {
      for (int header : seed.headerOffsets()) {
        if (header + TarBuilder.BLOCK <= tar.length) {
          TarBuilder.fixChecksum(tar, header);
        }
      }
    }
    return tar;
  }

  private static void writeNumericField(byte[] tar, int header, Random random) {
    int[] field = NUMERIC_FIELDS[random.nextInt(NUMERIC_FIELDS.length)];
    byte[] value;
    switch (random.nextInt(4)) {
      case 0:
        value = base256(random.nextLong(), field[1]);
        break;
      case 1:
        value = new byte[field[1]];
        random.nextBytes(value);
        value[0] |= (byte) 0x80;
        break;
      case 2:
        String octal = Long.toOctalString(random.nextLong() >>> random.nextInt(64));
        value = Arrays.copyOf(bytes(octal), field[1]);
        break;
      default:
        value = new byte[field[1]];
        byte[] alphabet = bytes("01234567 \0-+89");
        for (int i = 0; i < value.length; i++) {
          value[i] = alphabet[random.nextInt(alphabet.length)];
        }
        break;
    }
    System.arraycopy(value, 0, tar, header + field[0], field[1]);
  }

  /** Returns one to four random header blocks with valid checksums, each with random data. */
  private static byte[] randomArchive(Random random) {
    TarBuilder builder = new TarBuilder();
    int headers = 1 + random.nextInt(4);
    for (int h = 0; h < headers; h++) {
      byte[] block = new byte[TarBuilder.BLOCK];
      int filled = random.nextInt(TarBuilder.BLOCK);
      for (int i = 0; i < filled; i++) {
        block[random.nextInt(TarBuilder.BLOCK)] = (byte) random.nextInt(256);
      }
      String[] magics = {"ustar\u000000", "ustar  \u0000", "xxxxxxxx"};
      byte[] magic = magics[random.nextInt(magics.length)].getBytes(StandardCharsets.ISO_8859_1);
      System.arraycopy(magic, 0, block, 257, magic.length);
      if (random.nextBoolean()) {
        System.arraycopy(bytes("tar\0"), 0, block, 508, 4);
      }
      block[156] = TYPEFLAGS[random.nextInt(TYPEFLAGS.length)];
      // Mostly valid numbers, so that the archive gets past the field parsers.
      for (int[] field : NUMERIC_FIELDS) {
        if (random.nextInt(10) < 8) {
          long value = random.nextLong() & ((1L << (3 * field[1] - 3)) - 1);
          byte[] octal = bytes(Long.toOctalString(value));
          Arrays.fill(block, field[0], field[0] + field[1], (byte) 0);
          System.arraycopy(octal, 0, block, field[0], Math.min(octal.length, field[1] - 1));
        }
      }
      byte[] size = Arrays.copyOf(bytes(Long.toOctalString(random.nextInt(3000))), 12);
      System.arraycopy(size, 0, block, 124, random.nextBoolean() ? 11 : 12);
      TarBuilder.fixChecksum(block, 0);
      builder.raw(block);
      byte[] data = new byte[random.nextInt(3000)];
      if (random.nextBoolean()) {
        random.nextBytes(data);
      } else {
        byte[] record = PaxRecordBytes.of("path", "p".repeat(random.nextInt(20))).encode();
        data = Arrays.copyOf(record, Math.max(record.length, data.length));
      }
      builder.raw(data);
    }
    if (random.nextBoolean()) {
      builder.end();
    }
    return builder.toByteArray();
  }
}
