package dev.jsoci.fs.fuse;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import dev.jsoci.fs.FileSystemOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks that the kernel enforces the layer's file modes on a mount ({@code default_permissions}
 * with {@code allow_other}): readers run as other users through {@code setpriv}. The test is skipped
 * without root, /dev/fuse, fusermount, GNU tar or setpriv.
 */
class MountedPermissionTest {
  private static final String OWNER = "1000";
  private static final String STRANGER = "2000";

  @TempDir static Path shared;

  private static TestLayer layer;

  @TempDir Path temp;

  private TestMounts mounts;
  private Path mountPoint;

  @BeforeAll
  static void buildLayer() throws Exception {
    FuseEnvironment.assumeFuseMounts();
    FuseEnvironment.assumeProgram("tar", "tar");
    FuseEnvironment.assumeProgram("setpriv", "util-linux");
    Path source = shared.resolve("source");
    Files.createDirectories(source.resolve("closed"));
    // The layer's root entry gives the mount point its mode.
    chmod(source, "rwxr-xr-x");
    Files.writeString(source.resolve("private"), "owner only\n");
    Files.writeString(source.resolve("public"), "anyone\n");
    Files.writeString(source.resolve("closed/inside"), "behind a closed directory\n");
    chown(source.resolve("private"), OWNER);
    chmod(source.resolve("private"), "rw-------");
    chmod(source.resolve("public"), "rw-r--r--");
    chmod(source.resolve("closed/inside"), "rw-r--r--");
    chown(source.resolve("closed"), OWNER);
    chmod(source.resolve("closed"), "rwxr--r--");
    layer =
        TestLayer.fromPaths(
            "permissions",
            source,
            List.of(".", "private", "public", "closed", "closed/inside"),
            shared.resolve("layer.tar"));
  }

  @BeforeEach
  void mountLayer() throws Exception {
    // Other users must reach the mount point, so the directories between /tmp and it are opened
    // to them.
    for (Path directory = temp; directory != null; directory = directory.getParent()) {
      if (directory.equals(Path.of("/tmp")) || directory.getParent() == null) {
        break;
      }
      chmod(directory, "rwxr-xr-x");
    }
    mounts = new TestMounts(temp);
    mountPoint = temp.resolve("mnt");
    mounts.mount(layer.fileSystem(FileSystemOptions.defaults()), mountPoint);
  }

  @AfterEach
  void unmountAll() throws Exception {
    if (mounts != null) {
      mounts.close();
    }
  }

  @Test
  void ownerOnlyFile_readableByRootAndOwner() throws Exception {
    Path file = mountPoint.resolve("private");

    assertThat(Files.readString(file, StandardCharsets.UTF_8)).isEqualTo("owner only\n");
    Commands.Result asOwner = readAs(OWNER, file);
    assertWithMessage(asOwner.output()).that(asOwner.exitStatus()).isEqualTo(0);
    assertThat(asOwner.output()).isEqualTo("owner only\n");
  }

  @Test
  void ownerOnlyFile_deniedToOtherUser() throws Exception {
    Commands.Result control = readAs(STRANGER, mountPoint.resolve("public"));
    assertWithMessage(control.output()).that(control.exitStatus()).isEqualTo(0);
    assertThat(control.output()).isEqualTo("anyone\n");

    Commands.Result denied = readAs(STRANGER, mountPoint.resolve("private"));

    assertThat(denied.exitStatus()).isNotEqualTo(0);
    assertThat(denied.output()).contains("Permission denied");
    assertThat(denied.output()).doesNotContain("owner only");
  }

  @Test
  void directoryWithoutSearchBit_stopsLookup() throws Exception {
    Path inside = mountPoint.resolve("closed/inside");

    Commands.Result asOwner = readAs(OWNER, inside);
    assertWithMessage(asOwner.output()).that(asOwner.exitStatus()).isEqualTo(0);
    Commands.Result denied = readAs(STRANGER, inside);

    assertThat(denied.exitStatus()).isNotEqualTo(0);
    assertThat(denied.output()).contains("Permission denied");
    assertThat(denied.output()).doesNotContain("behind a closed directory");
  }

  /** Runs {@code cat file} as {@code uid}, with the same gid and no supplementary groups. */
  private static Commands.Result readAs(String uid, Path file) throws Exception {
    return Commands.runAllowingFailure(
        "setpriv",
        "--reuid=" + uid,
        "--regid=" + uid,
        "--clear-groups",
        "cat",
        file.toString());
  }

  private static void chmod(Path path, String permissions) throws Exception {
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
  }

  private static void chown(Path path, String uid) throws Exception {
    Commands.run("chown", uid + ":" + uid, path.toString());
  }
}
