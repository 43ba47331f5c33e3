package dev.jsoci.snapshotter;

import dev.jsoci.snapshotter.metadata.SnapshotRecord;
import java.io.IOException;

/** Points where tests make a snapshot operation fail, to check that it leaves nothing behind. */
interface FaultInjection {
  FaultInjection NONE = record -> {};

  /**
   * Runs after a new snapshot's record is written and its directory renamed into place, before the
   * transaction commits.
   */
  void afterDirectoryInstalled(SnapshotRecord record) throws IOException;
}
