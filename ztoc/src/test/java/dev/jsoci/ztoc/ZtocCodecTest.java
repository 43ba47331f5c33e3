package dev.jsoci.ztoc;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ZtocCodecTest {
  static String sha256(byte[] bytes) {
    try {
      return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  private static TocEntry emptyEntry() {
    return new TocEntry(
        ByteString.EMPTY,
        EntryType.REGULAR,
        0,
        0,
        ByteString.EMPTY,
        0,
        0,
        0,
        ByteString.EMPTY,
        ByteString.EMPTY,
        TocEntry.ZERO_TIME,
        0,
        0,
        List.of());
  }

  /**
   * The known-value zTOC of soci-snapshotter's own serialisation test: two all-empty entries,
   * 64 KiB of zero checkpoints and no span digests.
   */
  @Test
  void checkSize_atLimit_passes() throws Exception {
    ZtocCodec.checkSize(ZtocCodec.MAX_ZTOC_BYTES, "sha256:abc");
    ZtocCodec.checkSize(0, "sha256:abc");
  }

  @Test
  void checkSize_overLimit_namesSizeAndLimit() {
    ZtocFormatException e =
        assertThrows(
            ZtocFormatException.class,
            () -> ZtocCodec.checkSize(ZtocCodec.MAX_ZTOC_BYTES + 1, "sha256:abc"));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "invalid ztoc sha256:abc: its descriptor gives a size of 268435457 bytes, more than"
                + " the limit of 268435456");
  }

  @Test
  void checkSize_negative_rejected() {
    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> ZtocCodec.checkSize(-1, "sha256:abc"));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("invalid ztoc sha256:abc: its descriptor gives a negative size of -1");
  }

  @Test
  void encode_referenceVectorV1() {
    Ztoc ztoc =
        new Ztoc(
            "0.9",
            "AWS SOCI CLI",
            2_000_000,
            2_500_000,
            List.of(emptyEntry(), emptyEntry()),
            CompressionAlgorithm.GZIP,
            3,
            List.of(),
            new byte[65536]);

    byte[] bytes = ZtocCodec.encode(ztoc, entry -> "");

    assertThat(bytes.length).isEqualTo(65928);
    assertThat(sha256(bytes))
        .isEqualTo("sha256:eba28fdf50b1b57543f57dd051b2468c1d4f57b64d2006c75aa4de1d03e6c7ec");
  }

  @Test
  void decode_roundTripsEveryField() throws Exception {
    TocEntry file =
        new TocEntry(
            ByteString.of(new byte[] {'a', '/', (byte) 0xFF, 'x'}),
            EntryType.CHAR,
            1024,
            77,
            ByteString.utf8("target"),
            0100644,
            0xFFFF_FFFEL,
            4_000_000_000L,
            ByteString.utf8("user"),
            ByteString.utf8("group"),
            "2023-11-14T22:13:20.5Z",
            8,
            9,
            List.of(
                new PaxRecord(ByteString.utf8("path"), ByteString.utf8("a/\u00e9")),
                new PaxRecord(
                    ByteString.utf8("SCHILY.xattr.security.capability"),
                    ByteString.of(new byte[] {0, (byte) 0xFF, 1}))));
    Ztoc ztoc =
        new Ztoc(
            "0.9",
            "jsoci test",
            519,
            7168,
            List.of(file),
            CompressionAlgorithm.UNCOMPRESSED,
            1,
            List.of("sha256:" + "a".repeat(64), "sha256:" + "b".repeat(64)),
            new byte[] {1, 2, 3});

    Ztoc decoded = ZtocCodec.decode(ZtocCodec.encode(ztoc), "test");

    assertThat(decoded.version()).isEqualTo("0.9");
    assertThat(decoded.buildToolIdentifier()).isEqualTo("jsoci test");
    assertThat(decoded.compressedArchiveSize()).isEqualTo(519);
    assertThat(decoded.uncompressedArchiveSize()).isEqualTo(7168);
    assertThat(decoded.compressionAlgorithm()).isEqualTo(CompressionAlgorithm.UNCOMPRESSED);
    assertThat(decoded.maxSpanId()).isEqualTo(1);
    assertThat(decoded.spanDigests()).isEqualTo(ztoc.spanDigests());
    assertThat(decoded.checkpoints()).isEqualTo(new byte[] {1, 2, 3});
    TocEntry expected =
        new TocEntry(
            file.name(),
            file.type(),
            file.uncompressedOffset(),
            file.uncompressedSize(),
            file.linkname(),
            file.mode(),
            file.uid(),
            file.gid(),
            file.uname(),
            file.gname(),
            file.modTime(),
            file.devmajor(),
            file.devminor(),
            List.of(file.paxRecords().get(1), file.paxRecords().get(0)));
    assertThat(decoded.entries()).containsExactly(expected);
  }

  @Test
  void decode_unknownEntryType_namesEntry() {
    Ztoc ztoc =
        new Ztoc(
            "0.9", "t", 0, 0, List.of(emptyEntry()), CompressionAlgorithm.GZIP, 0, List.of(),
            new byte[0]);
    byte[] bytes = ZtocCodec.encode(ztoc, entry -> "socket");

    ZtocFormatException e =
        assertThrows(ZtocFormatException.class, () -> ZtocCodec.decode(bytes, "sha256:abc"));

    assertThat(e).hasMessageThat()
        .isEqualTo("invalid ztoc sha256:abc: toc entry 0: unknown toc entry type: \"socket\"");
  }

  @Test
  void decode_emptyAndShortInput_isFormatError() {
    for (byte[] bytes : List.of(new byte[0], new byte[] {1}, new byte[] {4, 0, 0})) {
      assertThrows(ZtocFormatException.class, () -> ZtocCodec.decode(bytes, "x"));
    }
  }

  /** Random bytes and mutated valid zTOCs end in a format error or a value, nothing else. */
  @Test
  void decode_garbage_neverThrowsOtherExceptions() {
    Ztoc ztoc =
        new Ztoc(
            "0.9", "t", 10, 20, List.of(emptyEntry(), emptyEntry()), CompressionAlgorithm.GZIP, 0,
            List.of("sha256:" + "c".repeat(64)), new byte[40]);
    byte[] valid = ZtocCodec.encode(ztoc);
    Random random = new Random(20261204L);
    for (int round = 0; round < 20_000; round++) {
      byte[] bytes;
      if (round % 2 == 0) {
        bytes = valid.clone();
        int flips = 1 + random.nextInt(8);
        for (int i = 0; i < flips; i++) {
          bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
        }
      } else {
        bytes = new byte[random.nextInt(300)];
        random.nextBytes(bytes);
      }
      try {
        ZtocCodec.decode(bytes, "fuzz");
      } catch (ZtocFormatException expected) {
        // A format error is a correct outcome for garbage.
      }
    }
  }
}
