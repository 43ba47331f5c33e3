package dev.jsoci.snapshotter;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RootLockTest {
  @TempDir Path directory;

  @Test
  void acquire_createsRootAndWritesProcessId() throws Exception {
    Path root = directory.resolve("a/root");

    try (RootLock lock = RootLock.acquire(root)) {
      assertThat(Files.readString(root.resolve(RootLock.FILE_NAME), StandardCharsets.US_ASCII))
          .isEqualTo(ProcessHandle.current().pid() + "\n");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root)))
          .isEqualTo("rwx------");
    }
  }

  @Test
  void acquire_heldLock_failsNamingHolder() throws Exception {
    Path root = directory.resolve("root");
    RootLock first = RootLock.acquire(root);

    IOException e = assertThrows(IOException.class, () -> RootLock.acquire(root));
    first.close();

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "root "
                + root
                + " is in use by another jsoci-snapshotter (PID "
                + ProcessHandle.current().pid()
                + "); stop that daemon first, or give this one another --root");
    try (RootLock again = RootLock.acquire(root)) {
      assertThat(Files.exists(root.resolve(RootLock.FILE_NAME))).isTrue();
    }
  }

  @Test
  void acquire_otherProcessHolds_failsUntilKilled() throws Exception {
    Path root = Files.createDirectory(directory.resolve("root"));
    Path file = root.resolve(RootLock.FILE_NAME);
    // python3 takes the same POSIX record lock as FileChannel.tryLock and writes a process ID
    // that is not its own, which the error must show as it is.
    Process holder =
        new ProcessBuilder(
                List.of(
                    "python3",
                    "-c",
                    "import fcntl, os, sys, time\n"
                        + "f = open(sys.argv[1], 'w')\n"
                        + "fcntl.lockf(f, fcntl.LOCK_EX)\n"
                        + "f.write('4242\\n'); f.flush()\n"
                        + "print('locked', flush=True)\n"
                        + "time.sleep(60)\n",
                    file.toString()))
            .redirectErrorStream(true)
            .start();
    try {
      assertThat(new String(holder.getInputStream().readNBytes(7), StandardCharsets.US_ASCII))
          .isEqualTo("locked\n");

      IOException e = assertThrows(IOException.class, () -> RootLock.acquire(root));

      assertThat(e).hasMessageThat().contains("in use by another jsoci-snapshotter (PID 4242)");
      assertThat(Files.readString(file)).isEqualTo("4242\n");
    } finally {
      holder.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    try (RootLock lock = RootLock.acquire(root)) {
      assertThat(Files.readString(file)).isEqualTo(ProcessHandle.current().pid() + "\n");
    }
  }
}
