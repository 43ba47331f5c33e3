package dev.jsoci.snapshotter.unpack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fs.LowerLayers;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.ztoc.zstd.ZstdDecompressingInputStream;
import dev.jsoci.ztoc.zstd.ZstdUnavailableException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.jspecify.annotations.Nullable;

/**
 * Downloads whole layer blobs from a registry, checks their uncompressed digest against the image
 * config's {@code diff_id} and unpacks them with a {@link LayerUnpacker}. Safe for concurrent use
 * when each call has its own directory and temporary file.
 */
public final class LayerDownloader {
  private static final byte[] GZIP_MAGIC = {0x1f, (byte) 0x8b};
  private static final byte[] ZSTD_MAGIC = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd};
  private static final int BUFFER_BYTES = 1 << 16;

  private final RegistryClient client;
  private final LayerUnpacker unpacker;

  public LayerDownloader(RegistryClient client, LayerUnpacker unpacker) {
    this.client = client;
    this.unpacker = unpacker;
  }

  /**
   * Downloads {@code layer}, decompresses it into the tar file {@code tar} while hashing it, checks
   * the hash against {@code diffId}, and unpacks the tar into {@code directory}. Deletes {@code
   * tar} before returning or throwing.
   *
   * @param diffId the config's {@code diff_id} of the layer, or null to skip the check
   * @throws IOException if the download fails, the blob's digest or {@code diffId} does not match,
   *     the gzip or zstd data is corrupt, the system libzstd is missing for a zstd blob, or the tar
   *     cannot be unpacked; {@code directory} may then contain part of the layer, and the caller
   *     removes it
   */
  public LayerUnpacker.Summary unpack(
      ImageRef repository, Descriptor layer, @Nullable Digest diffId, Path directory, Path tar)
      throws IOException {
    return unpack(repository, layer, diffId, directory, tar, LowerLayers.NONE);
  }

  /**
   * Downloads and unpacks {@code layer} as the method above does, for a layer stacked on {@code
   * lowers}, whose directories and symbolic links the parents that the layer leaves out follow.
   */
  public LayerUnpacker.Summary unpack(
      ImageRef repository,
      Descriptor layer,
      @Nullable Digest diffId,
      Path directory,
      Path tar,
      LowerLayers lowers)
      throws IOException {
    try {
      Digest uncompressed = download(repository, layer, tar);
      if (diffId != null && !diffId.equals(uncompressed)) {
        throw new IOException(
            "layer "
                + layer.digest()
                + ": uncompressed digest "
                + uncompressed
                + " does not match the config's diff_id "
                + diffId);
      }
      return unpacker.unpack(tar, directory, layer.digest().toString(), lowers);
    } finally {
      Files.deleteIfExists(tar);
    }
  }

  /** Writes the decompressed blob to {@code tar} and returns its sha256 digest. */
  private Digest download(ImageRef repository, Descriptor layer, Path tar) throws IOException {
    MessageDigest sha256 = newSha256();
    try (InputStream blob =
            new BufferedInputStream(client.newBlobStream(repository, layer), BUFFER_BYTES);
        OutputStream file = new DigestOutputStream(Files.newOutputStream(tar), sha256)) {
      try (InputStream content = decompressed(blob, layer)) {
        content.transferTo(file);
        // Read any bytes after the tar too: the blob's digest is checked at its end.
        blob.transferTo(OutputStream.nullOutputStream());
      } catch (ZipException e) {
        // The message of java.util.zip alone, such as "Corrupt GZIP trailer", names no layer.
        throw new IOException(
            "layer "
                + layer.digest()
                + " of "
                + repository
                + " is not valid gzip ("
                + e.getMessage()
                + "): the blob was damaged in the registry or before it was pushed; push the"
                + " image again",
            e);
      }
    }
    return Digest.parse("sha256:" + HexFormat.of().formatHex(sha256.digest()));
  }

  /**
   * Reads the config blob {@code config} and returns its {@code rootfs.diff_ids}, or an empty list
   * when it has none.
   */
  public static List<Digest> diffIds(RegistryClient client, ImageRef repository, Descriptor config)
      throws IOException {
    byte[] bytes = client.readBlob(repository, config);
    JsonNode ids = new ObjectMapper().readTree(bytes).path("rootfs").path("diff_ids");
    List<Digest> digests = new ArrayList<>();
    for (JsonNode id : ids) {
      digests.add(Digest.parse(id.asText()));
    }
    return digests;
  }

  /**
   * Returns the tar stream of a blob, detecting gzip and zstd (a zstd frame or a skippable frame)
   * by their magic bytes as containerd does.
   *
   * @throws ZstdUnavailableException if the blob is zstd and the system libzstd is missing
   */
  private static InputStream decompressed(InputStream blob, Descriptor layer) throws IOException {
    blob.mark(ZSTD_MAGIC.length);
    byte[] head = blob.readNBytes(ZSTD_MAGIC.length);
    blob.reset();
    if (startsWith(head, GZIP_MAGIC)) {
      return new GZIPInputStream(blob, BUFFER_BYTES);
    }
    if (startsWith(head, ZSTD_MAGIC) || isSkippableFrame(head)) {
      return new ZstdDecompressingInputStream(blob, "layer " + layer.digest());
    }
    return blob;
  }

  /**
   * Returns whether {@code head} starts a zstd skippable frame: a little-endian magic number from
   * {@code 0x184D2A50} to {@code 0x184D2A5F}, which a zstd stream may begin with.
   */
  private static boolean isSkippableFrame(byte[] head) {
    return head.length == 4
        && (head[0] & 0xf0) == 0x50
        && head[1] == 0x2a
        && head[2] == 0x4d
        && head[3] == 0x18;
  }

  private static boolean startsWith(byte[] bytes, byte[] prefix) {
    if (bytes.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (bytes[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
