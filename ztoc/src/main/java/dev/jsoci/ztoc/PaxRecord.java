package dev.jsoci.ztoc;

/**
 * One PAX extended-header record of a tar entry, kept as raw bytes. The zTOC stores every record
 * of an entry (misnamed {@code xattrs} there), sorted by key.
 */
public record PaxRecord(ByteString key, ByteString value) implements Comparable<PaxRecord> {
  @Override
  public int compareTo(PaxRecord other) {
    return key.compareTo(other.key);
  }
}
