package dev.jsoci.fs;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.PaxRecord;
import dev.jsoci.ztoc.TocEntry;
import java.util.ArrayList;
import java.util.List;

/** Builds TOC entries for tests, with the values a tar of root's files would give by default. */
final class TocEntryBuilder {
  private final ByteString name;
  private final EntryType type;
  private long offset = 512;
  private long size;
  private ByteString linkname = ByteString.EMPTY;
  private long mode = 0644;
  private long uid;
  private long gid;
  private String modTime = "2023-11-14T22:13:20Z";
  private long devmajor;
  private long devminor;
  private final List<PaxRecord> paxRecords = new ArrayList<>();

  private TocEntryBuilder(ByteString name, EntryType type) {
    this.name = name;
    this.type = type;
    if (type == EntryType.DIRECTORY) {
      mode = 0755;
    }
  }

  static TocEntryBuilder entry(String name, EntryType type) {
    return new TocEntryBuilder(ByteString.utf8(name), type);
  }

  static TocEntryBuilder entry(byte[] name, EntryType type) {
    return new TocEntryBuilder(ByteString.of(name), type);
  }

  static TocEntry file(String name) {
    return entry(name, EntryType.REGULAR).build();
  }

  static TocEntry directory(String name) {
    return entry(name, EntryType.DIRECTORY).build();
  }

  static TocEntry hardLink(String name, String target) {
    return entry(name, EntryType.HARDLINK).linkname(target).build();
  }

  TocEntryBuilder offset(long offset) {
    this.offset = offset;
    return this;
  }

  TocEntryBuilder size(long size) {
    this.size = size;
    return this;
  }

  TocEntryBuilder linkname(String linkname) {
    this.linkname = ByteString.utf8(linkname);
    return this;
  }

  TocEntryBuilder mode(long mode) {
    this.mode = mode;
    return this;
  }

  TocEntryBuilder owner(long uid, long gid) {
    this.uid = uid;
    this.gid = gid;
    return this;
  }

  TocEntryBuilder modTime(String modTime) {
    this.modTime = modTime;
    return this;
  }

  TocEntryBuilder device(long major, long minor) {
    this.devmajor = major;
    this.devminor = minor;
    return this;
  }

  TocEntryBuilder pax(String key, String value) {
    return pax(key, ByteString.utf8(value));
  }

  TocEntryBuilder pax(String key, ByteString value) {
    paxRecords.add(new PaxRecord(ByteString.utf8(key), value));
    return this;
  }

  TocEntry build() {
    return new TocEntry(
        name,
        type,
        offset,
        size,
        linkname,
        mode,
        uid,
        gid,
        ByteString.EMPTY,
        ByteString.EMPTY,
        modTime,
        devmajor,
        devminor,
        paxRecords.stream().sorted().toList());
  }
}
