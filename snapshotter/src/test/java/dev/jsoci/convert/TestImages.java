package dev.jsoci.convert;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.Platform;
import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.SpanExtractor;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.TocIndex;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.Zinfos;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocCodec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.zip.GZIPOutputStream;

/**
 * Writes small images into an {@link ImageStore} for tests: USTAR layers from file contents, gzip
 * layers, image configs with diff_ids, manifests and indexes in OCI or Docker media types.
 */
public final class TestImages {
  private final ImageStore store;

  public TestImages(ImageStore store) {
    this.store = store;
  }

  /** Returns a USTAR archive of regular files (mode 0644, owner 0:0, mtime 1700000000). */
  public static byte[] tar(Map<String, byte[]> files) {
    List<TarEntry> entries = new ArrayList<>();
    for (Map.Entry<String, byte[]> file : files.entrySet()) {
      entries.add(TarEntry.file(file.getKey(), file.getValue()));
    }
    return tar(entries);
  }

  /**
   * One entry of {@link #tar(List)}.
   *
   * @param type the USTAR type flag: {@code '0'} file, {@code '1'} hard link, {@code '2'} symbolic
   *     link, {@code '5'} directory
   */
  public record TarEntry(String name, char type, String linkname, byte[] content) {
    public static TarEntry file(String name, byte[] content) {
      return new TarEntry(name, '0', "", content);
    }

    public static TarEntry directory(String name) {
      return new TarEntry(name, '5', "", new byte[0]);
    }

    public static TarEntry symlink(String name, String target) {
      return new TarEntry(name, '2', target, new byte[0]);
    }

    public static TarEntry hardlink(String name, String target) {
      return new TarEntry(name, '1', target, new byte[0]);
    }
  }

  /** Returns a USTAR archive of the entries, in order, with the attributes of {@link #tar(Map)}. */
  public static byte[] tar(List<TarEntry> entries) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (TarEntry entry : entries) {
      out.writeBytes(header(entry));
      out.writeBytes(entry.content());
      int padding = (512 - entry.content().length % 512) % 512;
      out.writeBytes(new byte[padding]);
    }
    out.writeBytes(new byte[1024]);
    return out.toByteArray();
  }

  private static byte[] header(TarEntry entry) {
    long size = entry.content().length;
    byte[] block = new byte[512];
    put(block, 0, entry.name().getBytes(UTF_8));
    put(block, 100, octal(0644, 8));
    put(block, 108, octal(0, 8));
    put(block, 116, octal(0, 8));
    put(block, 124, octal(size, 12));
    put(block, 136, octal(1700000000L, 12));
    block[156] = (byte) entry.type();
    put(block, 157, entry.linkname().getBytes(UTF_8));
    put(block, 257, "ustar\0".getBytes(UTF_8));
    put(block, 263, "00".getBytes(UTF_8));
    for (int i = 148; i < 156; i++) {
      block[i] = ' ';
    }
    long checksum = 0;
    for (byte b : block) {
      checksum += b & 0xff;
    }
    put(block, 148, octal(checksum, 7));
    block[155] = ' ';
    return block;
  }

  private static byte[] octal(long value, int width) {
    String digits = Long.toOctalString(value);
    StringBuilder text = new StringBuilder();
    for (int i = digits.length(); i < width - 1; i++) {
      text.append('0');
    }
    return text.append(digits).append('\0').toString().getBytes(UTF_8);
  }

  private static void put(byte[] block, int offset, byte[] bytes) {
    System.arraycopy(bytes, 0, block, offset, bytes.length);
  }

  public static byte[] gzip(byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
      gzip.write(content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * Compresses {@code content} with the {@code zstd} command: one frame per part when {@code
   * splitAt} gives offsets, with a skippable frame before the first.
   */
  public static byte[] zstd(byte[] content, int... splitAt) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (splitAt.length > 0) {
      // Skippable frame: magic 0x184D2A50 and a 4-byte length, little-endian, then the content.
      out.writeBytes(new byte[] {0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 'j', 's', 'o'});
    }
    int start = 0;
    for (int end : splitAt) {
      out.writeBytes(zstdFrame(Arrays.copyOfRange(content, start, end)));
      start = end;
    }
    out.writeBytes(zstdFrame(Arrays.copyOfRange(content, start, content.length)));
    return out.toByteArray();
  }

  private static byte[] zstdFrame(byte[] content) {
    try {
      Process process = new ProcessBuilder("zstd", "-q", "-3", "-c").start();
      // Read the output on another thread, so that a full output pipe cannot stall zstd while the
      // content is written.
      CompletableFuture<byte[]> output =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return process.getInputStream().readAllBytes();
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
      try (OutputStream in = process.getOutputStream()) {
        in.write(content);
      }
      byte[] frame = output.join();
      String errors = new String(process.getErrorStream().readAllBytes(), UTF_8);
      if (process.waitFor() != 0) {
        throw new IOException("zstd failed: " + errors);
      }
      return frame;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Returns {@code size} pseudo-random bytes that compress poorly, the same for each seed. */
  public static byte[] randomBytes(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  /** Returns the 519-byte gzip layer whose zTOC AWS's soci builder has built (span size 1000). */
  public static byte[] referenceLayer() {
    try (InputStream in = TestImages.class.getResourceAsStream("three-entry-layer.tar.gz")) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A layer's blob with the uncompressed tar it holds. */
  public record Layer(String mediaType, byte[] blob, byte[] tar) {
    public static Layer gzip(Map<String, byte[]> files) {
      byte[] tar = TestImages.tar(files);
      return new Layer(MediaType.OCI_LAYER_TAR_GZIP, TestImages.gzip(tar), tar);
    }

    /** Returns a zstd layer of three frames after a skippable frame. */
    public static Layer zstd(Map<String, byte[]> files) {
      byte[] tar = TestImages.tar(files);
      byte[] blob = TestImages.zstd(tar, tar.length / 3, tar.length / 2);
      return new Layer(MediaType.OCI_LAYER_TAR_ZSTD, blob, tar);
    }

    public static Layer plain(Map<String, byte[]> files) {
      byte[] tar = TestImages.tar(files);
      return new Layer(MediaType.OCI_LAYER_TAR, tar, tar);
    }

    public Layer withMediaType(String mediaType) {
      return new Layer(mediaType, blob, tar);
    }

    /** Returns the digest of the blob, as the layer descriptor names it. */
    public String descriptorDigest() {
      return Digest.sha256Of(blob).toString();
    }

    public Digest diffId() {
      return Digest.sha256Of(tar);
    }
  }

  public static Map<String, byte[]> files(Object... namesAndContents) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (int i = 0; i < namesAndContents.length; i += 2) {
      Object content = namesAndContents[i + 1];
      files.put(
          (String) namesAndContents[i],
          content instanceof String ? ((String) content).getBytes(UTF_8) : (byte[]) content);
    }
    return files;
  }

  public Descriptor blob(String mediaType, byte[] content) throws IOException {
    Descriptor descriptor = Descriptor.of(mediaType, Digest.sha256Of(content), content.length);
    store.writeBlob(descriptor, content);
    return descriptor;
  }

  /** Writes the layers, a config with their diff_ids and the manifest; returns the manifest. */
  public Descriptor image(Platform platform, boolean docker, List<Layer> layers)
      throws IOException {
    List<Descriptor> layerDescriptors = new ArrayList<>();
    List<String> diffIds = new ArrayList<>();
    for (Layer layer : layers) {
      layerDescriptors.add(blob(layer.mediaType(), layer.blob()));
      diffIds.add("\"" + layer.diffId() + "\"");
    }
    String config =
        "{\"architecture\":\""
            + platform.architecture()
            + "\",\"os\":\""
            + platform.os()
            + "\""
            + (platform.variant().isEmpty() ? "" : ",\"variant\":\"" + platform.variant() + "\"")
            + ",\"config\":{\"Cmd\":[\"/bin/sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
            + String.join(",", diffIds)
            + "]}}";
    Descriptor configDescriptor =
        blob(docker ? MediaType.DOCKER_CONFIG : MediaType.OCI_CONFIG, config.getBytes(UTF_8));
    ImageManifest manifest =
        new ImageManifest(
            docker ? MediaType.DOCKER_MANIFEST : MediaType.OCI_MANIFEST,
            "",
            configDescriptor,
            layerDescriptors,
            null,
            Map.of());
    return manifest(manifest.toBytes(), manifest.mediaType(), null);
  }

  public Descriptor manifest(byte[] bytes, String mediaType, String tag) throws IOException {
    Descriptor descriptor = Descriptor.of(mediaType, Digest.sha256Of(bytes), bytes.length);
    store.writeManifest(descriptor, bytes, tag);
    return descriptor;
  }

  /** Returns the bytes of {@code path} in {@code blob}, read through its zTOC {@code ztoc}. */
  public static byte[] extractFile(byte[] ztocBytes, byte[] blob, String path) throws IOException {
    Ztoc ztoc = ZtocCodec.decode(ztocBytes, "test zTOC");
    Zinfo zinfo = Zinfos.of(ztoc, "test zTOC");
    TocEntry entry = TocIndex.of(ztoc, "test zTOC").resolve(ByteString.utf8(path));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new SpanExtractor(zinfo, ztoc.spanDigests(), "test layer")
        .extract(
            (offset, length) -> Arrays.copyOfRange(blob, (int) offset, (int) offset + length),
            entry.uncompressedOffset(),
            entry.uncompressedSize(),
            out);
    return out.toByteArray();
  }

  /** Writes an index of {@code entries} under {@code tag}. */
  public Descriptor index(boolean docker, String tag, List<Descriptor> entries) throws IOException {
    ImageIndex index =
        new ImageIndex(
            docker ? MediaType.DOCKER_MANIFEST_LIST : MediaType.OCI_INDEX,
            "",
            entries,
            null,
            Map.of());
    return manifest(index.toBytes(), index.mediaType(), tag);
  }

  /** Returns {@code manifest} as an index entry with a platform and annotations. */
  public static Descriptor entry(
      Descriptor manifest, Platform platform, Map<String, String> annotations) {
    return manifest.toBuilder().platform(platform).annotations(annotations).build();
  }
}
