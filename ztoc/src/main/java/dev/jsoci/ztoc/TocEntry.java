package dev.jsoci.ztoc;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;

/**
 * One tar entry as the zTOC records it (flatbuffers table {@code FileMetadata}).
 *
 * <p>Names are raw tar bytes, not cleaned: they keep {@code ./}, a leading {@code /} and the
 * trailing {@code /} of directories. {@code uncompressedOffset} is the offset in the tar stream of
 * the first byte after the entry's last header block, where its data starts, and
 * {@code uncompressedSize} is the size field of its header, also for entry types that carry no
 * data.
 *
 * @param mode the header's mode field as parsed, including any file-type bits the writer set
 * @param uid the user id, 0 to 2^32-1
 * @param gid the group id, 0 to 2^32-1
 * @param modTime RFC 3339 text as stored in the zTOC, or empty when the builder could not render
 *     the time
 * @param paxRecords every PAX record of the entry, sorted by key
 */
public record TocEntry(
    ByteString name,
    EntryType type,
    long uncompressedOffset,
    long uncompressedSize,
    ByteString linkname,
    long mode,
    long uid,
    long gid,
    ByteString uname,
    ByteString gname,
    String modTime,
    long devmajor,
    long devminor,
    List<PaxRecord> paxRecords) {

  /** Text of the zero time, the value Go renders for an unset modification time. */
  public static final String ZERO_TIME = "0001-01-01T00:00:00Z";

  public TocEntry {
    if (uid < 0 || uid > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("uid out of range: " + uid);
    }
    if (gid < 0 || gid > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("gid out of range: " + gid);
    }
    paxRecords = List.copyOf(paxRecords);
  }

  /**
   * Returns the modification time, parsed from RFC 3339 text with any zone offset; the zero time
   * ({@code 0001-01-01T00:00:00Z}) when the text is empty or cannot be parsed.
   */
  public Instant modInstant() {
    if (modTime.isEmpty()) {
      return Instant.parse(ZERO_TIME);
    }
    try {
      return OffsetDateTime.parse(modTime).toInstant();
    } catch (DateTimeParseException e) {
      return Instant.parse(ZERO_TIME);
    }
  }
}
