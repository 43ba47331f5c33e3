package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Starts real daemons and checks the owner, group and mode of their socket, and which users can
 * connect to it. Creates a group for the test and removes it at the end. Needs root, groupadd,
 * setpriv and /usr/bin/python3 (the connecting client, runnable by any user); skipped otherwise.
 */
class SocketPermissionIT {
  private static final Path PYTHON = Path.of("/usr/bin/python3");

  /** A user outside the socket group. */
  private static final String STRANGER = "2001";

  /** The user that connects as a member of the socket group. */
  private static final String MEMBER = "2000";

  private static final String GROUP = "jsoci-security-" + ProcessHandle.current().pid();

  private static int groupId = -1;

  @BeforeAll
  static void createGroup() throws Exception {
    assumeTrue(Processes.isRoot(), "needs root to create a group and start the daemon");
    assumeTrue(Files.isExecutable(PYTHON), "needs " + PYTHON + " as a client for other users");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "needs setpriv (util-linux)");
    assumeTrue(Files.isExecutable(Path.of("/usr/sbin/groupadd")), "needs groupadd (passwd)");
    Processes.run(List.of("groupadd", GROUP), Path.of("/"));
    String entry = Processes.run(List.of("getent", "group", GROUP), Path.of("/")).out().strip();
    groupId = Integer.parseInt(entry.split(":")[2]);
  }

  @AfterAll
  static void removeGroup() throws Exception {
    if (groupId >= 0) {
      Processes.run(List.of("groupdel", GROUP), Path.of("/"));
    }
  }

  @Test
  void defaultSocket_isRootOnly() throws Exception {
    try (LocalDaemon daemon = LocalDaemon.start("jsoci-security-socket-", "")) {
      Path socket = daemon.socket();
      openToOthers(daemon.directory());

      assertThat(permissions(socket)).isEqualTo("rw-------");
      assertThat(Files.getAttribute(socket, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0);
      assertThat(permissions(socket.getParent())).isEqualTo("rwx------");
      assertThat(connectAs("0", "0", socket)).isEqualTo("connected");
      assertThat(connectAs(STRANGER, STRANGER, socket)).isEqualTo("EACCES");
    }
  }

  @Test
  void socketGroup_givesGroupAccess() throws Exception {
    String config = "socket_group = \"" + GROUP + "\"\n";
    try (LocalDaemon daemon = LocalDaemon.start("jsoci-security-socket-", config)) {
      Path socket = daemon.socket();
      openToOthers(daemon.directory());

      assertThat(permissions(socket)).isEqualTo("rw-rw----");
      assertThat(Files.getAttribute(socket, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(0);
      assertThat(Files.getAttribute(socket, "unix:gid", LinkOption.NOFOLLOW_LINKS))
          .isEqualTo(groupId);
      assertThat(permissions(socket.getParent())).isEqualTo("rwx--x---");
      assertThat(Files.getAttribute(socket.getParent(), "unix:gid")).isEqualTo(groupId);
      assertThat(connectAs(MEMBER, Integer.toString(groupId), socket)).isEqualTo("connected");
      assertThat(connectAs(STRANGER, STRANGER, socket)).isEqualTo("EACCES");
    }
  }

  @Test
  void socketGroupAsGid_isApplied() throws Exception {
    String config = "socket_group = " + groupId + "\n";
    try (LocalDaemon daemon = LocalDaemon.start("jsoci-security-socket-", config)) {
      assertThat(permissions(daemon.socket())).isEqualTo("rw-rw----");
      assertThat(Files.getAttribute(daemon.socket(), "unix:gid", LinkOption.NOFOLLOW_LINKS))
          .isEqualTo(groupId);
    }
  }

  @Test
  void unknownSocketGroup_failsStart() throws Exception {
    Path directory = Files.createTempDirectory(Path.of("/tmp"), "jsoci-security-socket-");
    try {
      Files.writeString(directory.resolve("config.toml"), "socket_group = \"jsoci-no-group\"\n");

      Processes.Result result = startDaemon(directory, directory.resolve("run/jsoci.sock"));

      assertThat(result.status()).isEqualTo(1);
      assertThat(result.err()).contains("socket group \"jsoci-no-group\" not found");
      assertThat(Files.exists(directory.resolve("run"))).isFalse();
    } finally {
      LocalContainerd.deleteRecursively(directory);
    }
  }

  @Test
  void socketPathIsDirectory_failsAndIsKept() throws Exception {
    Path directory = Files.createTempDirectory(Path.of("/tmp"), "jsoci-security-socket-");
    try {
      Files.writeString(directory.resolve("config.toml"), "");
      Path socket = directory.resolve("run/jsoci.sock");
      Files.createDirectories(socket.resolve("kept"));

      Processes.Result result = startDaemon(directory, socket);

      assertThat(result.status()).isEqualTo(1);
      assertThat(result.err())
          .contains(
              "cannot listen on "
                  + socket
                  + ": the path exists and is a directory, not a socket: remove it or choose"
                  + " another address");
      assertThat(Files.isDirectory(socket.resolve("kept"))).isTrue();
    } finally {
      LocalContainerd.deleteRecursively(directory);
    }
  }

  @Test
  void socketPathIsFile_failsAndIsKept() throws Exception {
    Path directory = Files.createTempDirectory(Path.of("/tmp"), "jsoci-security-socket-");
    try {
      Files.writeString(directory.resolve("config.toml"), "");
      Path socket = directory.resolve("jsoci.sock");
      Files.writeString(socket, "precious");

      Processes.Result result = startDaemon(directory, socket);

      assertThat(result.status()).isEqualTo(1);
      assertThat(result.err()).contains("the path exists and is a regular file, not a socket");
      assertThat(Files.readString(socket)).isEqualTo("precious");
    } finally {
      LocalContainerd.deleteRecursively(directory);
    }
  }

  /** Lets other users traverse the daemon's temporary directory, which is created with 0700. */
  private static void openToOthers(Path directory) throws Exception {
    Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx--x--x"));
  }

  private static String permissions(Path path) throws Exception {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
  }

  /**
   * Connects to {@code socket} as {@code uid} with group {@code gid} and no supplementary groups,
   * and returns "connected" or the errno name of the failure.
   */
  private static String connectAs(String uid, String gid, Path socket) throws Exception {
    String script =
        "import errno, socket, sys\n"
            + "s = socket.socket(socket.AF_UNIX)\n"
            + "try:\n"
            + "    s.connect(sys.argv[1])\n"
            + "    print('connected')\n"
            + "except OSError as e:\n"
            + "    print(errno.errorcode.get(e.errno, str(e.errno)))\n";
    Processes.Result result =
        Processes.run(
            List.of(
                "setpriv",
                "--reuid=" + uid,
                "--regid=" + gid,
                "--clear-groups",
                PYTHON.toString(),
                "-c",
                script,
                socket.toString()),
            Path.of("/"));
    assertWithMessage(result.err()).that(result.err()).isEmpty();
    return result.out().strip();
  }

  /** Runs the daemon in the foreground; it is expected to fail at start. */
  private static Processes.Result startDaemon(Path directory, Path socket) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.jsoci.snapshotter.Daemon");
    command.addAll(
        List.of(
            "--root", directory.resolve("root").toString(),
            "--address", socket.toString(),
            "--config", directory.resolve("config.toml").toString()));
    return Processes.start(command, directory);
  }
}
