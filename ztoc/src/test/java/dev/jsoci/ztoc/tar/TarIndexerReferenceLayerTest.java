package dev.jsoci.ztoc.tar;

import static com.google.common.truth.Truth.assertThat;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.TocEntry;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * Indexes a small gzip layer whose zTOC the reference SOCI builder produced, and checks the TOC
 * against the one in that zTOC.
 *
 * <p>The layer is a 10240-byte USTAR archive written by Python's tarfile (three entries, padded to
 * a 10240-byte record), deflated with flush points at uncompressed offsets 1024, 2560, 3072 and
 * 6144 so that deflate blocks end in the middle of a byte.
 */
class TarIndexerReferenceLayerTest {
  /** The gzip layer, 519 bytes. */
  private static final String LAYER_HEX =
      "1f8b0800000000000003d491310ac0200c4573144fd0464dcc791c0a1d04c12af4f855a1503ad8c9"
          + "a16ff9213fc30fdfaf301dac0873d7ca5bfbac890d8920b5bd46b4028ae747032847f6a9464931e6"
          + "d1dd97ff53fcba6f21c4259ff3be6b053ba2a65a189fda30c6bdfbd7622c289c96e8c1dd7f39b634"
          + "be1bfb3fe51238f615caf38b7252b846d9a3ec51f6287b30b307babc1c6e00a044fda4cc3cbd9444"
          + "5ab66dc0f53f66bb0f469b9a9923d7ff86a0fadfd8c088cef5ff086dff01c4cc252821afa66b62ed"
          + "e419101e979a535cd5d8d13f6dee92d59b761e387eeeea9dc7af3efef8cfc62b22ada469606ee7ea"
          + "131c9598915f56dbd23d69e682e5ebb6ee397ceae28dfbcfde7ef9cdc429202ea7aa636ce5e8e11f"
          + "169b925d54d9d0de3775cee2551b77ec3f76f6caed472f3f7cffc7ca232ca5a8a16f66ebe21d1499"
          + "909e575ad3dc3571c6fc656bb7ec3e74f2c2f57b4fdf7cfec5c8c12f26aba26d64e9e0ee171a939c"
          + "555851dfd63b65f6a2951bb6ef3b7ae6f2ad872fde7ffbcbc22d24a9a0ae676ae3ec1518119f965b"
          + "52ddd43961fabca56b36ef3a78e2fcb5bb4f5e7ffac9c0ce272aa3ac656861efe61b129d9459505e"
          + "d7da3379d6c215ebb7ed3d72fad2cd07cfdf7dfd33eaff51ff8ffa7fd4ffa3fe1ff5ffa8ff47fd3f"
          + "eaff51ff0f05ff53abfd0f680f0e480000000004fd7fdd8f5001000080bf009723420c00280000";

  private static final String LAYER_SHA256 =
      "b4ceb60a56d630e7543007ffc06b3964eed496198b553640f943249f75b242be";

  private static final String TAR_SHA256 =
      "2a9af01e41649ccccb5ff955661bb60e6b152ca9bb5c74457a6174a17974dac5";

  @Test
  void index_referenceLayer_matchesReferenceToc() throws Exception {
    byte[] layer = HexFormat.of().parseHex(LAYER_HEX);
    assertThat(layer).hasLength(519);
    InputStream tar = new GZIPInputStream(new ByteArrayInputStream(layer));

    TarIndex index = TarIndexer.index(tar, "layer-L");

    assertThat(index.uncompressedArchiveSize()).isEqualTo(7168);
    assertThat(index.entries())
        .containsExactly(
            entry("a/", EntryType.DIRECTORY, 512, 0, 0755, 0, "root", "2023-11-14T22:13:20Z"),
            entry(
                "a/hello.txt",
                EntryType.REGULAR,
                1024,
                1200,
                0644,
                1000,
                "user",
                "2023-11-14T22:13:20Z"),
            entry(
                "a/bin.dat",
                EntryType.REGULAR,
                3072,
                3000,
                0600,
                0,
                "root",
                "2023-11-14T22:13:21Z"))
        .inOrder();
    // The record padding after the end-of-archive marker is left in the stream.
    byte[] rest = tar.readAllBytes();
    assertThat(rest).hasLength(10240 - 7168);
  }

  @Test
  void referenceLayer_hasExpectedDigests() throws Exception {
    byte[] layer = HexFormat.of().parseHex(LAYER_HEX);
    byte[] tar = new GZIPInputStream(new ByteArrayInputStream(layer)).readAllBytes();

    MessageDigest sha256 = MessageDigest.getInstance("SHA-256");

    assertThat(HexFormat.of().formatHex(sha256.digest(layer))).isEqualTo(LAYER_SHA256);
    assertThat(HexFormat.of().formatHex(sha256.digest(tar))).isEqualTo(TAR_SHA256);
  }

  private static TocEntry entry(
      String name,
      EntryType type,
      long offset,
      long size,
      long mode,
      long id,
      String owner,
      String modTime) {
    return new TocEntry(
        ByteString.utf8(name),
        type,
        offset,
        size,
        ByteString.EMPTY,
        mode,
        id,
        id,
        ByteString.utf8(owner),
        ByteString.utf8(owner),
        modTime,
        0,
        0,
        List.of());
  }
}
