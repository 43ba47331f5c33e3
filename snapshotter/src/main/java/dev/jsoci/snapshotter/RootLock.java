package dev.jsoci.snapshotter;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * An exclusive lock on a daemon's root directory, so that two daemons never share snapshots, mounts
 * and caches.
 *
 * <p>The lock is a POSIX record lock ({@code fcntl}, as {@link FileChannel#tryLock()} takes it on
 * Linux) on {@code ROOT/jsoci-snapshotter.pid}, which contains the process ID of its holder as
 * decimal text and a newline. The kernel releases the lock when the process ends, also when it is
 * killed, so a stale file never blocks the next start.
 */
final class RootLock implements AutoCloseable {
  static final String FILE_NAME = "jsoci-snapshotter.pid";

  private final FileChannel channel;
  private final FileLock lock;

  private RootLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Creates {@code root} when missing (mode 0700), takes the lock and writes this process's ID.
   *
   * @throws IOException naming the root and the holder's process ID when another process holds the
   *     lock, or when the lock file cannot be written
   */
  static RootLock acquire(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      Files.createDirectories(root);
      Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx------"));
    }
    Path file = root.resolve(FILE_NAME);
    FileChannel channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    try {
      FileLock lock = tryLock(channel);
      if (lock == null) {
        throw new IOException(
            "root "
                + root
                + " is in use by another jsoci-snapshotter"
                + holderDescription(channel)
                + "; stop that daemon first, or give this one another --root");
      }
      channel.truncate(0);
      channel.write(
          ByteBuffer.wrap(
              (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII)),
          0);
      channel.force(false);
      return new RootLock(channel, lock);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  /** Returns the lock, or null when another process or another channel of this JVM holds it. */
  private static FileLock tryLock(FileChannel channel) throws IOException {
    try {
      return channel.tryLock();
    } catch (OverlappingFileLockException e) {
      return null;
    }
  }

  /** Returns " (PID n)" from the lock file, or "" when it contains no process ID yet. */
  private static String holderDescription(FileChannel channel) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(32);
    channel.read(buffer, 0);
    String text = new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII);
    String pid = text.strip();
    return pid.matches("[0-9]{1,19}") ? " (PID " + pid + ")" : "";
  }

  /** Releases the lock. The file stays, because the next holder rewrites it. */
  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
