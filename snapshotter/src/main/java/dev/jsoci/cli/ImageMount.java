package dev.jsoci.cli;

import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.ResolvedImage;
import dev.jsoci.fs.LowerDirectories;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.snapshotter.DirectoryTree;
import dev.jsoci.snapshotter.lazy.LazyLayer;
import dev.jsoci.snapshotter.lazy.LazyLayers;
import dev.jsoci.snapshotter.lazy.MountedLayer;
import dev.jsoci.snapshotter.unpack.LayerDownloader;
import dev.jsoci.snapshotter.unpack.LayerUnpacker;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An image mounted at a directory by {@code jsoci mount}: one FUSE mount per layer with a zTOC, one
 * unpacked directory per other layer, and an overlay of them all at the mount point. Closing it
 * unmounts the overlay, then the FUSE mounts; the caller deletes the state directory with {@link
 * #removeState} once the span engine is closed.
 *
 * <p>Not thread-safe; {@link #close} may be called once from any thread.
 */
final class ImageMount implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(ImageMount.class);

  private final MountState state;
  private final List<MountedLayer> lazyMounts = new ArrayList<>();
  private boolean overlayMounted;

  private ImageMount(MountState state) {
    this.state = state;
  }

  /**
   * Mounts every layer of {@code image}, then the overlay at the state's mount point, printing one
   * line per layer on {@code out}. The state directory must exist and be empty but for its {@code
   * pid} and {@code mountpoint} files. Blocks while layers download.
   *
   * @throws IOException if a layer cannot be read, unpacked or mounted, or the overlay mount fails;
   *     everything mounted so far is unmounted then
   */
  static ImageMount start(
      RegistryClient client,
      LazyLayers lazyLayers,
      ResolvedImage image,
      LayerUnpacker unpacker,
      MountState state,
      boolean writable,
      PrintWriter out)
      throws IOException {
    ImageMount mount = new ImageMount(state);
    try {
      mount.mountLayers(client, lazyLayers, image, unpacker, out);
      mount.mountOverlay(writable);
      return mount;
    } catch (IOException | RuntimeException e) {
      try {
        mount.close();
      } catch (IOException | RuntimeException closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
  }

  private void mountLayers(
      RegistryClient client,
      LazyLayers lazyLayers,
      ResolvedImage image,
      LayerUnpacker unpacker,
      PrintWriter out)
      throws IOException {
    ImageRef ref = image.reference();
    Digest manifest = image.manifest().descriptor().digest();
    List<Descriptor> layers = image.parsedManifest().layers();
    List<Digest> diffIds = LayerDownloader.diffIds(client, ref, image.parsedManifest().config());
    Files.createDirectories(state.layers());

    for (int i = 0; i < layers.size(); i++) {
      Descriptor layer = layers.get(i);
      Path directory = Files.createDirectory(state.layer(i));
      Optional<LazyLayer> lazy = lazyLayers.find(ref, manifest, null, layer.digest());
      String mode;
      // The layers mounted so far, the nearest first, as the overlay stacks them.
      List<Path> lowerDirectories = new ArrayList<>();
      for (int below = i - 1; below >= 0; below--) {
        lowerDirectories.add(state.layer(below));
      }
      LowerDirectories lowers = new LowerDirectories(lowerDirectories);
      if (lazy.isPresent()) {
        lazyMounts.add(lazyLayers.mount(lazy.get(), directory, lowers));
        mode = "lazy";
      } else {
        Digest diffId = i < diffIds.size() ? diffIds.get(i) : null;
        unpackLayer(client, ref, layer, diffId, directory, unpacker, lowers);
        mode = "unpacked";
      }
      out.printf("layer %d/%d %s %s %s%n", i + 1, layers.size(), layer.digest(), mode, directory);
      out.flush();
      logger.info("layer ready: layer={} mode={} path={}", layer.digest(), mode, directory);
    }
  }

  private void mountOverlay(boolean writable) throws IOException {
    // overlayfs lists lower directories top first.
    List<String> lower = new ArrayList<>();
    int layerCount;
    try (var entries = Files.list(state.layers())) {
      layerCount = (int) entries.count();
    }
    for (int i = layerCount - 1; i >= 0; i--) {
      lower.add(state.layer(i).toString());
    }
    String options;
    if (writable) {
      Files.createDirectory(state.upper());
      Files.createDirectory(state.work());
      options =
          "lowerdir="
              + String.join(":", lower)
              + ",upperdir="
              + state.upper()
              + ",workdir="
              + state.work();
    } else {
      if (lower.size() < 2) {
        lower.add(Files.createDirectory(state.empty()).toString());
      }
      options = "ro,lowerdir=" + String.join(":", lower);
    }
    MountPoints.mountOverlay(state.mountPoint(), options);
    overlayMounted = true;
  }

  /**
   * Unmounts the overlay, then the FUSE mounts, top layer first.
   *
   * @throws IOException if an unmount fails; the remaining steps still run
   */
  @Override
  public void close() throws IOException {
    IOException failure = null;
    if (overlayMounted || MountPoints.isMounted(state.mountPoint())) {
      try {
        if (MountPoints.unmount(state.mountPoint())) {
          logger.warn("mount point busy, detached lazily: mountpoint={}", state.mountPoint());
        }
        overlayMounted = false;
      } catch (IOException e) {
        failure = e;
      }
    }
    for (int i = lazyMounts.size() - 1; i >= 0; i--) {
      try {
        lazyMounts.get(i).close();
      } catch (IOException e) {
        failure = chain(failure, e);
      }
    }
    lazyMounts.clear();
    if (failure != null) {
      throw failure;
    }
  }

  /**
   * Deletes a state directory, refusing while anything under it is mounted so that the deletion
   * never reaches into a layer that is still served. Then deletes the base directory too when
   * {@code jsoci mount} created it and no other state directory is left in it.
   */
  static void removeState(MountState state) throws IOException {
    if (!Files.exists(state.directory())) {
      return;
    }
    List<Path> mounted = MountPoints.under(state.directory());
    if (!mounted.isEmpty()) {
      throw new IOException(
          "cannot remove " + state.directory() + ": still mounted there: " + mounted);
    }
    boolean createdBase = Files.exists(state.createdBaseMarker());
    DirectoryTree.delete(state.directory());
    if (createdBase) {
      removeIfEmpty(state.directory().getParent());
    }
  }

  /**
   * Deletes {@code directory} unless it has entries; Files.delete never deletes a non-empty one.
   */
  private static void removeIfEmpty(Path directory) throws IOException {
    try {
      Files.delete(directory);
    } catch (DirectoryNotEmptyException | NoSuchFileException e) {
      // Another mount's state is in it, or another unmount removed it first.
    }
  }

  private static IOException chain(@Nullable IOException first, IOException next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }

  /** Downloads a layer blob, checks it against the config's diff_id and unpacks it. */
  private void unpackLayer(
      RegistryClient client,
      ImageRef ref,
      Descriptor layer,
      @Nullable Digest diffId,
      Path directory,
      LayerUnpacker unpacker,
      LowerDirectories lowers)
      throws IOException {
    Files.createDirectories(state.downloads());
    Path tar = state.downloads().resolve(layer.digest().encoded() + ".tar");
    LayerUnpacker.Summary summary =
        new LayerDownloader(client, unpacker).unpack(ref, layer, diffId, directory, tar, lowers);
    if (summary.skipped() > 0) {
      logger.warn(
          "skipped devices, fifos or xattrs that need root: layer={} count={}",
          layer.digest(),
          summary.skipped());
    }
  }
}
