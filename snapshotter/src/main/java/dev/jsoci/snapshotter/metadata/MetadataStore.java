package dev.jsoci.snapshotter.metadata;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import dev.jsoci.snapshotter.errdefs.SnapshotException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The snapshot records of one daemon, in a SQLite database file.
 *
 * <p>Every operation runs in one transaction through {@link #read} or {@link #write}: it commits
 * when the body returns and rolls back when the body throws, so a failure or a crash never leaves a
 * half-made record. One connection serves all threads, and transactions run one at a time.
 *
 * <p>Schema:
 *
 * <pre>
 * snapshots(id INTEGER PRIMARY KEY AUTOINCREMENT,  -- names snapshots/&lt;id&gt;, never reused
 *           name TEXT UNIQUE,             -- name of a committed snapshot, key of the others
 *           kind INTEGER,                 -- containerd's Kind: 1 view, 2 active, 3 committed
 *           parent_id INTEGER REFERENCES snapshots(id),
 *           created_at_nanos, updated_at_nanos INTEGER,   -- since the epoch, UTC
 *           size_bytes, inodes INTEGER)   -- usage stored at commit
 * labels(snapshot_id INTEGER REFERENCES snapshots(id) ON DELETE CASCADE,
 *        key TEXT, value TEXT, PRIMARY KEY (snapshot_id, key))
 * </pre>
 */
public final class MetadataStore implements AutoCloseable {
  private final ReentrantLock lock = new ReentrantLock();
  private final Path file;

  @GuardedBy("lock")
  private final Connection connection;

  private MetadataStore(Path file, Connection connection) {
    this.file = file;
    this.connection = connection;
  }

  /** The system property that names the directory sqlite-jdbc copies its native library into. */
  static final String NATIVE_DIRECTORY_PROPERTY = "org.sqlite.tmpdir";

  /**
   * Makes sqlite-jdbc copy its native library into {@code directory} (mode 0700) instead of {@code
   * java.io.tmpdir}, and deletes the copies that earlier processes left there.
   *
   * <p>sqlite-jdbc writes a copy of about 1 MiB at every start and deletes it at a normal exit
   * only, so each killed process would leave one in {@code /tmp} for good. Call this before the
   * first {@link #open} of the process, and only while no other process can use {@code directory}
   * (the daemon holds its root lock). Does nothing when {@code org.sqlite.tmpdir} is set already.
   */
  public static void useNativeLibraryDirectory(Path directory) throws IOException {
    if (System.getProperty(NATIVE_DIRECTORY_PROPERTY) != null) {
      return;
    }
    Files.createDirectories(directory);
    Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory, "sqlite-*")) {
      for (Path entry : entries) {
        Files.deleteIfExists(entry);
      }
    }
    System.setProperty(NATIVE_DIRECTORY_PROPERTY, directory.toString());
  }

  /**
   * Opens the database at {@code file}, creating it and its tables when missing.
   *
   * <p>Warning: close the store, or the database stays open until the JVM exits.
   */
  public static MetadataStore open(Path file) throws MetadataException {
    Connection connection;
    try {
      connection = DriverManager.getConnection("jdbc:sqlite:" + file);
    } catch (SQLException e) {
      throw new MetadataException("cannot open snapshot database " + file, e);
    }
    try (Statement statement = connection.createStatement()) {
      statement.execute("PRAGMA journal_mode=WAL");
      // FULL syncs the write-ahead log at every commit, so a committed snapshot survives a
      // power loss.
      statement.execute("PRAGMA synchronous=FULL");
      statement.execute("PRAGMA foreign_keys=ON");
      statement.execute("PRAGMA busy_timeout=10000");
      statement.execute(
          "CREATE TABLE IF NOT EXISTS snapshots ("
              + "id INTEGER PRIMARY KEY AUTOINCREMENT,"
              + " name TEXT NOT NULL UNIQUE,"
              + " kind INTEGER NOT NULL,"
              + " parent_id INTEGER REFERENCES snapshots(id),"
              + " created_at_nanos INTEGER NOT NULL,"
              + " updated_at_nanos INTEGER NOT NULL,"
              + " size_bytes INTEGER NOT NULL DEFAULT 0,"
              + " inodes INTEGER NOT NULL DEFAULT 0)");
      statement.execute("CREATE INDEX IF NOT EXISTS snapshots_parent ON snapshots(parent_id)");
      statement.execute(
          "CREATE TABLE IF NOT EXISTS labels ("
              + "snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,"
              + " key TEXT NOT NULL,"
              + " value TEXT NOT NULL,"
              + " PRIMARY KEY (snapshot_id, key))");
      connection.setAutoCommit(false);
      connection.commit();
    } catch (SQLException e) {
      closeQuietly(connection);
      throw new MetadataException("cannot set up snapshot database " + file, e);
    }
    return new MetadataStore(file, connection);
  }

  /** The body of a transaction. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Transaction transaction) throws SnapshotException, IOException;
  }

  /** Runs {@code work} in a transaction that only reads. Blocks while another one runs. */
  public <T> T read(Work<T> work) throws SnapshotException, IOException {
    return inTransaction(work);
  }

  /**
   * Runs {@code work} in a transaction that commits when it returns and rolls back when it throws.
   * Blocks while another transaction runs.
   */
  public <T> T write(Work<T> work) throws SnapshotException, IOException {
    return inTransaction(work);
  }

  private <T> T inTransaction(Work<T> work) throws SnapshotException, IOException {
    lock.lock();
    try {
      Transaction transaction = new Transaction(connection);
      T result;
      try {
        result = work.run(transaction);
      } catch (SnapshotException | IOException | RuntimeException | Error e) {
        rollback(e);
        throw e;
      }
      try {
        connection.commit();
      } catch (SQLException e) {
        rollback(e);
        throw new MetadataException("cannot commit to snapshot database " + file, e);
      }
      return result;
    } finally {
      lock.unlock();
    }
  }

  private void rollback(Throwable cause) {
    try {
      connection.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  @Override
  public void close() throws MetadataException {
    lock.lock();
    try {
      connection.close();
    } catch (SQLException e) {
      throw new MetadataException("cannot close snapshot database " + file, e);
    } finally {
      lock.unlock();
    }
  }

  private static void closeQuietly(Connection connection) {
    try {
      connection.close();
    } catch (SQLException ignored) {
      // The open already failed; that error is the one to report.
    }
  }
}
