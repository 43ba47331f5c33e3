package dev.jsoci.it;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.Platform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An OCI image layout that the integration tests write: layer blobs packed from directory trees by
 * GNU tar and gzip, image manifests with their configs, and an image index tagged {@value #TAG}.
 */
final class OciLayout {
  /** The tag of the layout's image index, as in {@code oci:DIR:v1}. */
  static final String TAG = "v1";

  /**
   * One layer blob of the layout.
   *
   * @param descriptor the blob's descriptor, media type included
   * @param diffId the digest of the uncompressed tar, which image configs list
   * @param blob the blob's file in the work directory, kept after the layout is written
   */
  record Layer(Descriptor descriptor, Digest diffId, Path blob) {}

  final Path directory;

  private OciLayout(Path directory) {
    this.directory = directory;
  }

  /** Creates an empty layout at {@code directory}. Nothing is tagged until {@link #writeIndex}. */
  static OciLayout create(Path directory) throws IOException {
    Files.createDirectories(directory.resolve("blobs/sha256"));
    return new OciLayout(directory);
  }

  /**
   * Packs {@code members} of {@code tree} into a layer blob with GNU tar, sorted by name, owned by
   * 0:0 and dated 2023-11-14, then compresses it with {@code gzip -n} when {@code gzip} is set.
   *
   * @param members paths relative to {@code tree}, where a directory brings its contents
   * @param tarOptions more GNU tar options, such as {@code --format=posix}
   * @param work where the tar and gzip files named after {@code name} are written
   */
  Layer addTarLayer(
      Path tree,
      List<String> members,
      boolean gzip,
      List<String> tarOptions,
      Path work,
      String name)
      throws IOException, InterruptedException {
    Path tar = work.resolve(name + ".tar");
    List<String> command =
        new ArrayList<>(
            List.of(
                "tar",
                "-C",
                tree.toString(),
                "--owner=0",
                "--group=0",
                "--numeric-owner",
                "--mtime=@1700000000",
                "--sort=name"));
    command.addAll(tarOptions);
    command.addAll(List.of("-cf", tar.toString()));
    command.addAll(members);
    Processes.run(command, work);
    Digest diffId = Digest.sha256Of(Files.readAllBytes(tar));

    Path blob = tar;
    if (gzip) {
      Processes.run(List.of("gzip", "-n", "-k", "-f", tar.toString()), work);
      blob = work.resolve(name + ".tar.gz");
    }
    String mediaType = gzip ? MediaType.OCI_LAYER_TAR_GZIP : MediaType.OCI_LAYER_TAR;
    return new Layer(writeBlob(mediaType, Files.readAllBytes(blob)), diffId, blob);
  }

  /**
   * Writes the config and the manifest of an image whose layers are {@code layers}, bottom first.
   * The config runs {@code /bin/busybox sh} with {@code PATH=/bin}.
   */
  Descriptor writeImage(Platform platform, List<Layer> layers) throws IOException {
    List<String> ids = new ArrayList<>();
    List<Descriptor> manifestLayers = new ArrayList<>();
    for (Layer layer : layers) {
      ids.add("\"" + layer.diffId() + "\"");
      manifestLayers.add(layer.descriptor());
    }
    String config =
        "{\"architecture\":\""
            + platform.architecture()
            + "\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"/bin/busybox\","
            + "\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
            + String.join(",", ids)
            + "]}}";
    Descriptor configBlob = writeBlob(MediaType.OCI_CONFIG, config.getBytes(UTF_8));
    ImageManifest manifest =
        new ImageManifest(MediaType.OCI_MANIFEST, "", configBlob, manifestLayers, null, Map.of());
    return writeBlob(MediaType.OCI_MANIFEST, manifest.toBytes());
  }

  /**
   * Writes an image index of {@code manifests} and tags it {@value #TAG} in {@code index.json}.
   *
   * @param manifests image manifests, each with its platform set
   * @return the image index's descriptor
   */
  Descriptor writeIndex(List<Descriptor> manifests) throws IOException {
    ImageIndex index = new ImageIndex(MediaType.OCI_INDEX, "", manifests, null, Map.of());
    Descriptor indexBlob = writeBlob(MediaType.OCI_INDEX, index.toBytes());

    Descriptor tagged =
        indexBlob.toBuilder().annotations(Map.of("org.opencontainers.image.ref.name", TAG)).build();
    ImageIndex layoutIndex =
        new ImageIndex(MediaType.OCI_INDEX, "", List.of(tagged), null, Map.of());
    Files.write(directory.resolve("index.json"), layoutIndex.toBytes());
    Files.writeString(directory.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    return indexBlob;
  }

  /** Stores {@code bytes} as a blob and returns its descriptor. */
  Descriptor writeBlob(String mediaType, byte[] bytes) throws IOException {
    Digest digest = Digest.sha256Of(bytes);
    Files.write(directory.resolve("blobs/sha256").resolve(digest.encoded()), bytes);
    return Descriptor.of(mediaType, digest, bytes.length);
  }

  /** Copies the image tagged {@value #TAG}, with all its platforms, to {@code reference}. */
  void pushWithSkopeo(String reference) throws IOException, InterruptedException {
    Processes.run(
        List.of(
            "skopeo",
            "copy",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
            "--quiet",
            "oci:" + directory + ":" + TAG,
            "docker://" + reference),
        directory);
  }
}
