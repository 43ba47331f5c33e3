package dev.jsoci.fs.fuse;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ch.qos.logback.classic.Level;
import dev.jsoci.fs.FileSystemOptions;
import dev.jsoci.fs.LayerFileSystem;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mounting and unmounting: options as the kernel shows them, busy and repeated unmounts, mount
 * points that cannot be used. Needs root, /dev/fuse, fusermount and GNU tar; skipped otherwise.
 */
class FuseMountTest {
  @TempDir static Path shared;

  private static TestLayer layer;

  @TempDir Path temp;

  private TestMounts mounts;

  @BeforeAll
  static void buildLayer() throws Exception {
    FuseEnvironment.assumeFuseMounts();
    FuseEnvironment.assumeProgram("tar", "tar");
    Path source = shared.resolve("source");
    Files.createDirectories(source.resolve("dir"));
    Files.writeString(source.resolve("dir/file"), "content");
    layer = TestLayer.fromDirectory("small", source, shared.resolve("layer.tar"));
  }

  @BeforeEach
  void createMounts() {
    mounts = new TestMounts(temp);
  }

  @AfterEach
  void unmountAll() throws Exception {
    mounts.close();
  }

  private LayerFileSystem fileSystem() {
    return layer.fileSystem(FileSystemOptions.defaults());
  }

  @Test
  void mount_optionsInMountinfo() throws Exception {
    Path mountPoint = temp.resolve("mnt");
    MountOptions options = MountOptions.builder("sha256:0123abcd").build();

    long start = System.nanoTime();
    mounts.mount(fileSystem(), mountPoint, options);
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
    MountTable.MountEntry entry = MountTable.find(mountPoint).orElseThrow();

    assertThat(entry.fsType()).isEqualTo("fuse.jsoci");
    assertThat(entry.source()).isEqualTo("sha256:0123abcd");
    assertThat(List.of(entry.mountOptions().split(","))).containsAtLeast("ro", "nodev");
    assertThat(List.of(entry.mountOptions().split(","))).doesNotContain("nosuid");
    assertThat(List.of(entry.superOptions().split(",")))
        .containsAtLeast("ro", "allow_other", "default_permissions", "max_read=131072");
    // jnr-fuse's own non-blocking mount always waits 2 s; waiting for INIT is much shorter.
    assertThat(elapsedMillis).isLessThan(1900);
  }

  @Test
  void mount_withoutOptionalChecks_omitsThem() throws Exception {
    Path mountPoint = temp.resolve("mnt");
    MountOptions options =
        MountOptions.builder("plain").allowOther(false).defaultPermissions(false).build();

    mounts.mount(fileSystem(), mountPoint, options);

    List<String> superOptions =
        List.of(MountTable.find(mountPoint).orElseThrow().superOptions().split(","));
    assertThat(superOptions).containsNoneOf("allow_other", "default_permissions");
  }

  @Test
  void close_unmountsAndIsIdempotent() throws Exception {
    Path mountPoint = temp.resolve("mnt");
    FuseMount mount = mounts.mount(fileSystem(), mountPoint);
    assertThat(Files.readString(mountPoint.resolve("dir/file"))).isEqualTo("content");

    mount.close();
    mount.close();

    assertThat(MountTable.isMounted(mount.mountPoint())).isFalse();
    assertThat(Files.exists(mountPoint.resolve("dir"))).isFalse();
  }

  @Test
  void close_whileFileOpen_detachesLazily() throws Exception {
    Path mountPoint = temp.resolve("mnt");
    FuseMount mount = mounts.mount(fileSystem(), mountPoint);

    try (LogCapture log = new LogCapture(FuseMount.class);
        SeekableByteChannel open = Files.newByteChannel(mountPoint.resolve("dir/file"))) {
      mount.close();

      assertThat(MountTable.isMounted(mount.mountPoint())).isFalse();
      assertThat(log.messages(Level.WARN))
          .containsExactly(
              "mount point busy, detached lazily; the layer is served until its last open file is"
                  + " closed: layer=small mountpoint="
                  + mount.mountPoint());
      // The detached session still serves the open file.
      ByteBuffer buffer = ByteBuffer.allocate(16);
      open.read(buffer);
      assertThat(new String(buffer.array(), 0, buffer.position(), "UTF-8")).isEqualTo("content");
    }
  }

  @Test
  void mount_samePointTwice_rejected() throws Exception {
    Path mountPoint = temp.resolve("mnt");
    FuseMount first = mounts.mount(fileSystem(), mountPoint);

    IOException e = assertThrows(IOException.class, () -> mounts.mount(fileSystem(), mountPoint));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("mount point " + first.mountPoint() + " is already mounted; unmount it first");
  }

  @Test
  void mount_onFile_rejected() throws Exception {
    Path file = Files.writeString(temp.resolve("file"), "x");

    IOException e =
        assertThrows(
            IOException.class,
            () -> FuseMount.mount(fileSystem(), file, MountOptions.builder("x").build()));

    assertThat(e).hasMessageThat().isEqualTo("mount point " + file + " is not a directory");
  }

  @Test
  void mount_againAfterClose_works() throws Exception {
    Path mountPoint = temp.resolve("mnt");
    for (int i = 0; i < 3; i++) {
      FuseMount mount = mounts.mount(fileSystem(), mountPoint);
      assertThat(Files.readString(mountPoint.resolve("dir/file"))).isEqualTo("content");
      mount.close();
    }

    assertThat(MountTable.isMounted(mountPoint)).isFalse();
  }

  @Test
  void unmountLeftover_unmountsWhateverIsMounted() throws Exception {
    Path mountPoint = temp.resolve("mnt");
    FuseMount mount = mounts.mount(fileSystem(), mountPoint);

    boolean unmounted = FuseMount.unmountLeftover(mountPoint, Duration.ofSeconds(10));
    boolean again = FuseMount.unmountLeftover(mountPoint, Duration.ofSeconds(10));
    mount.close();

    assertThat(unmounted).isTrue();
    assertThat(again).isFalse();
    assertThat(MountTable.isMounted(mount.mountPoint())).isFalse();
  }
}
