package dev.jsoci.it;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A two-platform image built from generated files with GNU tar and gzip, written as an OCI image
 * layout tagged {@code v1}:
 *
 * <ul>
 *   <li>{@code big}: gzip, 12 MiB of random data in {@code data/big.bin} and {@code etc/message};
 *       above the 10 MiB minimum, so it gets a zTOC;
 *   <li>{@code busybox}: gzip, the static {@code /bin/busybox} of Debian's busybox-static, about 1
 *       MiB, so it is skipped;
 *   <li>{@code plain}: an uncompressed tar of 11 MiB ({@code data/plain.bin}), indexed as a plain
 *       tar, or re-compressed with {@code --force-gzip};
 *   <li>{@code arm64}: gzip, one small file, only in the linux/arm64 image.
 * </ul>
 *
 * The linux/amd64 image has big, busybox and plain; the linux/arm64 image has big, plain and arm64.
 * Configs list the diff_ids, so containerd can unpack and run the amd64 image.
 */
final class SampleImage {
  static final Path BUSYBOX = Path.of("/bin/busybox");
  static final String MESSAGE = "hello from a lazily pulled layer\n";
  static final Platform AMD64 = Platform.of("linux", "amd64");
  static final Platform ARM64 = Platform.of("linux", "arm64");

  final Path layout;
  private final OciLayout ociLayout;
  final Map<String, byte[]> files = new LinkedHashMap<>();
  final Map<String, Descriptor> layers = new LinkedHashMap<>();
  final Map<String, Path> layerFiles = new LinkedHashMap<>();
  final Map<String, Digest> diffIds = new LinkedHashMap<>();
  Descriptor amd64Manifest;
  Descriptor index;

  private SampleImage(OciLayout ociLayout) {
    this.ociLayout = ociLayout;
    this.layout = ociLayout.directory;
  }

  /** Returns whether the programs the image is built with are installed. */
  static boolean toolsInstalled() {
    return Files.isExecutable(BUSYBOX)
        && Files.isExecutable(Path.of("/bin/tar"))
        && Files.isExecutable(Path.of("/bin/gzip"));
  }

  /** Builds the image under {@code work}; the layout is {@code work/layout}. */
  static SampleImage build(Path work) throws IOException, InterruptedException {
    return build(work, 1);
  }

  /**
   * Builds the image under {@code work} with the random file contents of {@code seed}; images of
   * different seeds share only the busybox layer.
   */
  static SampleImage build(Path work, long seed) throws IOException, InterruptedException {
    OciLayout layout = OciLayout.create(work.resolve("layout"));
    SampleImage image = new SampleImage(layout);

    byte[] big = new byte[12 << 20];
    new Random(seed).nextBytes(big);
    byte[] plain = new byte[11 << 20];
    new Random(seed + 1).nextBytes(plain);
    image.addLayer(
        work, "big", true, Map.of("data/big.bin", big, "etc/message", MESSAGE.getBytes(UTF_8)));
    image.addLayer(work, "busybox", true, Map.of("bin/busybox", Files.readAllBytes(BUSYBOX)));
    image.addLayer(work, "plain", false, Map.of("data/plain.bin", plain));
    image.addLayer(work, "arm64", true, Map.of("etc/arch", "arm64\n".getBytes(UTF_8)));

    image.amd64Manifest = image.writeImage(AMD64, List.of("big", "busybox", "plain"));
    Descriptor arm64 = image.writeImage(ARM64, List.of("big", "plain", "arm64"));
    image.index =
        layout.writeIndex(
            List.of(
                image.amd64Manifest.toBuilder().platform(AMD64).build(),
                arm64.toBuilder().platform(ARM64).build()));
    return image;
  }

  private void addLayer(Path work, String name, boolean gzip, Map<String, byte[]> content)
      throws IOException, InterruptedException {
    Path tree = work.resolve("tree-" + name);
    List<String> topLevel = new ArrayList<>();
    for (Map.Entry<String, byte[]> file : content.entrySet()) {
      Path path = tree.resolve(file.getKey());
      Files.createDirectories(path.getParent());
      Files.write(path, file.getValue());
      files.put(file.getKey(), file.getValue());
      String top = file.getKey().substring(0, file.getKey().indexOf('/'));
      if (!topLevel.contains(top)) {
        topLevel.add(top);
      }
    }
    if (content.containsKey("bin/busybox")) {
      tree.resolve("bin/busybox").toFile().setExecutable(true, false);
    }

    OciLayout.Layer layer = ociLayout.addTarLayer(tree, topLevel, gzip, List.of(), work, name);
    diffIds.put(name, layer.diffId());
    layers.put(name, layer.descriptor());
    layerFiles.put(name, layer.blob());
  }

  private Descriptor writeImage(Platform platform, List<String> layerNames) throws IOException {
    List<OciLayout.Layer> imageLayers = new ArrayList<>();
    for (String name : layerNames) {
      imageLayers.add(
          new OciLayout.Layer(layers.get(name), diffIds.get(name), layerFiles.get(name)));
    }
    return ociLayout.writeImage(platform, imageLayers);
  }

  /** Copies the image with all its platforms to {@code reference} with skopeo. */
  void pushWithSkopeo(String reference) throws IOException, InterruptedException {
    ociLayout.pushWithSkopeo(reference);
  }
}
