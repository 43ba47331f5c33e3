package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Platform;
import dev.jsoci.testing.LocalRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs an image whose top layer lists files only, without their parent directories, once with
 * containerd's overlayfs snapshotter and once lazily through jsoci. The containers must see the
 * same directories, with the lower layers' modes and owners, and the same hidden merged-usr link.
 */
class ImplicitParentsIT {
  private static final Platform AMD64 = Platform.of("linux", "amd64");

  /** What the containers print: each path's mode, owner and type, and the listing of /lib. */
  private static final String SCRIPT =
      "busybox stat -c '%n %a %u:%g %F' /tmp /srv /srv/private /srv/private/added /lib"
          + " /lib/newfile; busybox ls /lib";

  @TempDir static Path work;
  private static LocalRegistry registry;
  private static LocalDaemon daemon;
  private static LocalContainerd containerd;
  private static String plainReference;
  private static String sociReference;

  @BeforeAll
  static void buildImageAndStart() throws Exception {
    assumeTrue(Processes.isRoot(), "containerd, runc and FUSE need root");
    assumeTrue(LocalContainerd.isInstalled(), "containerd, ctr or runc is not installed");
    assumeTrue(LocalRegistry.isInstalled(), "docker-registry is not installed");
    assumeTrue(SampleImage.toolsInstalled(), "busybox-static, tar or gzip is not installed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed");
    assumeTrue(Files.exists(Path.of("/dev/fuse")), "/dev/fuse is missing");

    OciLayout layout = OciLayout.create(work.resolve("layout"));
    List<OciLayout.Layer> layers = new ArrayList<>();

    Path busybox = Files.createDirectories(work.resolve("busybox/bin"));
    Files.copy(SampleImage.BUSYBOX, busybox.resolve("busybox"));
    layers.add(
        layout.addTarLayer(busybox.getParent(), List.of("bin"), true, List.of(), work, "busybox"));

    Path base = Files.createDirectories(work.resolve("base"));
    Files.createDirectories(base.resolve("tmp"));
    Files.setAttribute(base.resolve("tmp"), "unix:mode", 01777);
    Files.createDirectories(base.resolve("srv/private"));
    Files.setPosixFilePermissions(
        base.resolve("srv/private"), PosixFilePermissions.fromString("rwx--x---"));
    Files.createDirectories(base.resolve("usr/lib"));
    Files.writeString(base.resolve("usr/lib/libc.so.6"), "libc\n", UTF_8);
    Files.createSymbolicLink(base.resolve("lib"), Path.of("usr/lib"));
    layers.add(
        layout.addTarLayer(
            base, List.of("lib", "srv", "tmp", "usr"), true, List.of(), work, "base"));

    Path top = Files.createDirectories(work.resolve("top"));
    for (String file : List.of("tmp/.keep", "srv/private/added", "lib/newfile")) {
      Files.createDirectories(top.resolve(file).getParent());
      Files.writeString(top.resolve(file), file + "\n", UTF_8);
    }
    layers.add(
        layout.addTarLayer(
            top,
            List.of("lib/newfile", "srv/private/added", "tmp/.keep"),
            true,
            List.of("--no-recursion"),
            work,
            "top"));

    Descriptor manifest = layout.writeImage(AMD64, layers);
    layout.writeIndex(List.of(manifest.toBuilder().platform(AMD64).build()));
    registry = LocalRegistry.start(null);
    plainReference = registry.host() + "/implicit:v1";
    sociReference = registry.host() + "/implicit-soci:v1";
    layout.pushWithSkopeo(plainReference);
    // Every layer gets a zTOC, so that the container reads each one lazily.
    Processes.Result converted =
        Processes.jsoci(
            work,
            "convert",
            "--plain-http",
            "--min-layer-size",
            "1",
            plainReference,
            sociReference);
    assertWithMessage("jsoci convert: " + converted.err()).that(converted.status()).isEqualTo(0);

    daemon = LocalDaemon.start("jsoci-implicit-", "");
    containerd = LocalContainerd.start(daemon.socket());
  }

  @AfterAll
  static void stop() throws Exception {
    try (AutoCloseable registryCloser = registry;
        AutoCloseable daemonCloser = daemon;
        AutoCloseable containerdCloser = containerd) {
      // Closed in reverse order: containerd, the daemon, the registry.
    }
  }

  private static String ctr(String... args) throws Exception {
    Processes.Result result = containerd.ctr(args);
    assertWithMessage(
            "ctr "
                + String.join(" ", args)
                + ": "
                + result.err()
                + "\n"
                + daemon.log()
                + "\n"
                + containerd.log())
        .that(result.status())
        .isEqualTo(0);
    return result.out();
  }

  @Test
  void lazyContainer_seesWhatOverlayfsPullShows() throws Exception {
    ctr("images", "pull", "--plain-http", plainReference);
    String overlayfs =
        ctr("run", "--rm", plainReference, "overlayfs", "/bin/busybox", "sh", "-c", SCRIPT);
    Processes.Result pulled = containerd.rpull("jsoci", sociReference);
    assertWithMessage("ctr-remote images rpull: " + pulled.err() + pulled.out())
        .that(pulled.status())
        .isEqualTo(0);
    String lazy =
        ctr(
            "run",
            "--rm",
            "--snapshotter",
            "jsoci",
            sociReference,
            "lazy",
            "/bin/busybox",
            "sh",
            "-c",
            SCRIPT);

    assertThat(lazy).isEqualTo(overlayfs);
    // The lower layers' modes, and the link that the top layer's lib/ hides, as containerd has it.
    assertThat(overlayfs).contains("/tmp 1777 0:0 directory");
    assertThat(overlayfs).contains("/srv/private 710 0:0 directory");
    assertThat(overlayfs).contains("/lib 755 0:0 directory");
    assertThat(overlayfs).doesNotContain("libc.so.6");
  }
}
