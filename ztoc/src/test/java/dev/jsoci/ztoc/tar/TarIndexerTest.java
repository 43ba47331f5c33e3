package dev.jsoci.ztoc.tar;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.ztoc.tar.TarBuilder.base256;
import static dev.jsoci.ztoc.tar.TarBuilder.bytes;
import static dev.jsoci.ztoc.tar.TarBuilder.fileHeader;
import static dev.jsoci.ztoc.tar.TarBuilder.header;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.LayerFormatException;
import dev.jsoci.ztoc.PaxRecord;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.UnsupportedLayerException;
import dev.jsoci.ztoc.tar.TarBuilder.Format;
import dev.jsoci.ztoc.tar.TarBuilder.PaxRecordBytes;
import java.io.ByteArrayInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TarIndexerTest {
  private static final String LAYER = "sha256:test";

  private static TarIndex index(byte[] tar) throws IOException {
    return TarIndexer.index(new ByteArrayInputStream(tar), LAYER);
  }

  private static LayerFormatException indexFailure(byte[] tar) {
    return assertThrows(LayerFormatException.class, () -> index(tar));
  }

  private static TocEntry onlyEntry(byte[] tar) throws IOException {
    List<TocEntry> entries = index(tar).entries();
    assertThat(entries).hasSize(1);
    return entries.get(0);
  }

  private static ByteString text(String value) {
    return ByteString.utf8(value);
  }

  private static PaxRecord record(String key, String value) {
    return new PaxRecord(text(key), text(value));
  }

  @Test
  void index_ustarRegularFile() throws IOException {
    byte[] tar = new TarBuilder().file("etc/hosts", 1000).end().toByteArray();

    TarIndex index = index(tar);

    TocEntry entry = index.entries().get(0);
    assertThat(index.entries()).hasSize(1);
    assertThat(entry.name()).isEqualTo(text("etc/hosts"));
    assertThat(entry.type()).isEqualTo(EntryType.REGULAR);
    assertThat(entry.uncompressedOffset()).isEqualTo(512);
    assertThat(entry.uncompressedSize()).isEqualTo(1000);
    assertThat(entry.linkname()).isEqualTo(ByteString.EMPTY);
    assertThat(entry.mode()).isEqualTo(0644);
    assertThat(entry.uid()).isEqualTo(1000);
    assertThat(entry.gid()).isEqualTo(1000);
    assertThat(entry.uname()).isEqualTo(text("user"));
    assertThat(entry.gname()).isEqualTo(text("group"));
    assertThat(entry.modTime()).isEqualTo("2023-11-14T22:13:20Z");
    assertThat(entry.devmajor()).isEqualTo(0);
    assertThat(entry.devminor()).isEqualTo(0);
    assertThat(entry.paxRecords()).isEmpty();
    assertThat(index.uncompressedArchiveSize()).isEqualTo(512 + 1024 + 1024);
  }

  @Test
  void index_offsetsFollowDataPadding() throws IOException {
    byte[] tar =
        new TarBuilder()
            .file("a", 0)
            .file("b", 1)
            .file("c", 512)
            .file("d", 513)
            .end()
            .toByteArray();

    List<TocEntry> entries = index(tar).entries();

    assertThat(entries.stream().map(TocEntry::uncompressedOffset).toList())
        .containsExactly(512L, 1024L, 2048L, 3072L)
        .inOrder();
    assertThat(index(tar).uncompressedArchiveSize()).isEqualTo(3072 + 1024 + 1024);
  }

  @Test
  void index_v7HeaderIgnoresUstarFields() throws IOException {
    byte[] tar =
        new TarBuilder()
            .entry(
                fileHeader("old.txt", 3)
                    .format(Format.V7)
                    .typeflag('\0')
                    .raw(265, bytes("root"))
                    .raw(329, bytes("0000007\0"))
                    .raw(345, bytes("prefix")),
                bytes("abc"))
            .end()
            .toByteArray();

    TocEntry entry = onlyEntry(tar);

    assertThat(entry.name()).isEqualTo(text("old.txt"));
    assertThat(entry.type()).isEqualTo(EntryType.REGULAR);
    assertThat(entry.uname()).isEqualTo(ByteString.EMPTY);
    assertThat(entry.gname()).isEqualTo(ByteString.EMPTY);
    assertThat(entry.devmajor()).isEqualTo(0);
  }

  @Test
  void index_oldTypeTrailingSlash_isDirectory() throws IOException {
    byte[] tar =
        new TarBuilder()
            .header(header("dir/", '\0').format(Format.V7).size(700))
            .entry(header("file", '\0').format(Format.V7).size(2), bytes("hi"))
            .end()
            .toByteArray();

    List<TocEntry> entries = index(tar).entries();

    // The directory declares 700 bytes but, being a directory, consumes none of them.
    assertThat(entries.get(0).type()).isEqualTo(EntryType.DIRECTORY);
    assertThat(entries.get(0).uncompressedSize()).isEqualTo(700);
    assertThat(entries.get(1).type()).isEqualTo(EntryType.REGULAR);
    assertThat(entries.get(1).uncompressedOffset()).isEqualTo(1024);
  }

  @Test
  void index_gnuLongNameAndLongLinkname() throws IOException {
    String longName = "d/".repeat(100) + "file";
    String longTarget = "t/".repeat(80) + "target";
    byte[] tar =
        new TarBuilder()
            .longName(bytes(longName))
            .longLinkname(bytes(longTarget))
            .header(
                header(longName.substring(0, 99), '2')
                    .format(Format.GNU)
                    .linkname(longTarget.substring(0, 99)))
            .end()
            .toByteArray();

    TocEntry entry = onlyEntry(tar);

    assertThat(entry.name()).isEqualTo(text(longName));
    assertThat(entry.linkname()).isEqualTo(text(longTarget));
    assertThat(entry.type()).isEqualTo(EntryType.SYMLINK);
    // Two L/K headers with one data block each, then the entry's own header.
    assertThat(entry.uncompressedOffset()).isEqualTo(5 * 512);
    assertThat(entry.paxRecords()).isEmpty();
  }

  @Test
  void index_gnuLongNameWinsOverPaxPath() throws IOException {
    byte[] tar =
        new TarBuilder()
            .longName(bytes("from-gnu"))
            .pax(PaxRecordBytes.of("path", "from-pax"))
            .file("short", 0)
            .end()
            .toByteArray();

    TocEntry entry = onlyEntry(tar);

    assertThat(entry.name()).isEqualTo(text("from-gnu"));
    assertThat(entry.paxRecords()).containsExactly(record("path", "from-pax"));
  }

  @Test
  void index_emptyGnuLongName_keepsHeaderName() throws IOException {
    byte[] tar =
        new TarBuilder()
            .longName(bytes("first"))
            .longName(new byte[0])
            .file("header-name", 0)
            .end()
            .toByteArray();

    assertThat(onlyEntry(tar).name()).isEqualTo(text("header-name"));
  }

  @Test
  void index_paxPathAndLinkpath() throws IOException {
    String longName = "p/".repeat(200) + "link";
    byte[] tar =
        new TarBuilder()
            .pax(PaxRecordBytes.of("path", longName), PaxRecordBytes.of("linkpath", "../target"))
            .header(header("truncated", '1').linkname("x"))
            .end()
            .toByteArray();

    TocEntry entry = onlyEntry(tar);

    assertThat(entry.name()).isEqualTo(text(longName));
    assertThat(entry.linkname()).isEqualTo(text("../target"));
    assertThat(entry.type()).isEqualTo(EntryType.HARDLINK);
    assertThat(entry.uncompressedOffset()).isEqualTo(3 * 512);
    assertThat(entry.paxRecords())
        .containsExactly(record("linkpath", "../target"), record("path", longName))
        .inOrder();
  }

  @Test
  void index_paxBinaryValuesKeptAsBytes() throws IOException {
    byte[] capability = {0x01, 0x00, 0x00, 0x02, (byte) 0xff, 0x00, (byte) 0x80, '\n', '='};
    byte[] tar =
        new TarBuilder()
            .pax(
                new PaxRecordBytes(bytes("SCHILY.xattr.security.capability"), capability),
                PaxRecordBytes.of("SCHILY.xattr.user.a", "1"))
            .file("bin/ping", 4)
            .end()
            .toByteArray();

    TocEntry entry = onlyEntry(tar);

    assertThat(entry.paxRecords())
        .containsExactly(
            new PaxRecord(text("SCHILY.xattr.security.capability"), ByteString.of(capability)),
            record("SCHILY.xattr.user.a", "1"))
        .inOrder();
  }

  @Test
  void index_paxRecordsSortedByUnsignedBytes() throws IOException {
    byte[] highKey = {'k', (byte) 0xc3, (byte) 0xa9};
    byte[] tar =
        new TarBuilder()
            .pax(
                new PaxRecordBytes(highKey, bytes("3")),
                PaxRecordBytes.of("kz", "2"),
                PaxRecordBytes.of("kA", "1"),
                PaxRecordBytes.of("k", "0"))
            .file("f", 0)
            .end()
            .toByteArray();

    List<PaxRecord> records = onlyEntry(tar).paxRecords();

    assertThat(records.stream().map(r -> r.key()).toList())
        .containsExactly(text("k"), text("kA"), text("kz"), ByteString.of(highKey))
        .inOrder();
  }

  @Test
  void index_duplicatePaxKey_lastValueWins() throws IOException {
    byte[] tar =
        new TarBuilder()
            .pax(PaxRecordBytes.of("path", "one"), PaxRecordBytes.of("path", "two"))
            .file("f", 0)
            .end()
            .toByteArray();

    TocEntry entry = onlyEntry(tar);

    assertThat(entry.name()).isEqualTo(text("two"));
    assertThat(entry.paxRecords()).containsExactly(record("path", "two"));
  }

  @Test
  void index_emptyPaxValues_keepFields() throws IOException {
    byte[] tar =
        new TarBuilder()
            .pax(
                PaxRecordBytes.of("path", ""),
                PaxRecordBytes.of("uid", ""),
                PaxRecordBytes.of("mtime", ""),
                PaxRecordBytes.of("size", ""),
                PaxRecordBytes.of("comment", ""))
            .file("kept", 10)
            .end()
            .toByteArray();

    TocEntry entry = onlyEntry(tar);

    assertThat(entry.name()).isEqualTo(text("kept"));
    assertThat(entry.uid()).isEqualTo(1000);
    assertThat(entry.uncompressedSize()).isEqualTo(10);
    assertThat(entry.modTime()).isEqualTo("2023-11-14T22:13:20Z");
    assertThat(entry.paxRecords())
        .containsExactly(
            record("comment", ""),
            record("mtime", ""),
            record("path", ""),
            record("size", ""),
            record("uid", ""))
        .inOrder();
  }

  @Test
  void index_paxNumericFields_overrideHeader() throws IOException {
    byte[] tar =
        new TarBuilder()
            .pax(
                PaxRecordBytes.of("uid", "4294967297"),
                PaxRecordBytes.of("gid", "-1"),
                PaxRecordBytes.of("uname", "alice"),
                PaxRecordBytes.of("gname", "staff"),
                PaxRecordBytes.of("size", "+600"),
                PaxRecordBytes.of("atime", "1.25"),
                PaxRecordBytes.of("ctime", "-3"))
            .entry(fileHeader("f", 5), TarBuilder.pattern(600))
            .file("next", 0)
            .end()
            .toByteArray();

    List<TocEntry> entries = index(tar).entries();

    TocEntry entry = entries.get(0);
    // Go keeps ids as 64-bit ints; the zTOC stores their low 32 bits.
    assertThat(entry.uid()).isEqualTo(1);
    assertThat(entry.gid()).isEqualTo(0xFFFF_FFFFL);
    assertThat(entry.uname()).isEqualTo(text("alice"));
    assertThat(entry.gname()).isEqualTo(text("staff"));
    assertThat(entry.uncompressedSize()).isEqualTo(600);
    assertThat(entries.get(1).uncompressedOffset()).isEqualTo(1024 + 1024 + 512 + 512);
  }

  @Test
  void index_severalPaxHeaders_lastWins() throws IOException {
    byte[] tar =
        new TarBuilder()
            .pax(PaxRecordBytes.of("path", "first"), PaxRecordBytes.of("uname", "first"))
            .pax(PaxRecordBytes.of("gname", "second"))
            .file("header", 0)
            .file("after", 0)
            .end()
            .toByteArray();

    List<TocEntry> entries = index(tar).entries();

    assertThat(entries.get(0).name()).isEqualTo(text("header"));
    assertThat(entries.get(0).uname()).isEqualTo(text("user"));
    assertThat(entries.get(0).gname()).isEqualTo(text("second"));
    assertThat(entries.get(0).paxRecords()).containsExactly(record("gname", "second"));
    assertThat(entries.get(0).uncompressedOffset()).isEqualTo(5 * 512);
    assertThat(entries.get(1).paxRecords()).isEmpty();
  }

  @Test
  void index_nonUtf8NamesKeptAsBytes() throws IOException {
    byte[] name = {'f', (byte) 0xff, (byte) 0xfe, (byte) 0xc3, '.', 't', 'x', 't'};
    byte[] paxName = {'p', (byte) 0x80, 'x'};
    byte[] tar =
        new TarBuilder()
            .entry(fileHeader("", 0).name(name), new byte[0])
            .pax(new PaxRecordBytes(bytes("path"), paxName))
            .file("ignored", 0)
            .end()
            .toByteArray();

    List<TocEntry> entries = index(tar).entries();

    assertThat(entries.get(0).name()).isEqualTo(ByteString.of(name));
    assertThat(entries.get(1).name()).isEqualTo(ByteString.of(paxName));
  }

  @Test
  void index_hardlinkAndSymlink() throws IOException {
    byte[] tar =
        new TarBuilder()
            .file("usr/bin/a", 3)
            .header(header("usr/bin/b", '1').linkname("usr/bin/a").mode(0755))
            .header(header("usr/bin/c", '2').linkname("../../x/./y").mode(0777))
            .end()
            .toByteArray();

    List<TocEntry> entries = index(tar).entries();

    assertThat(entries.get(1).type()).isEqualTo(EntryType.HARDLINK);
    assertThat(entries.get(1).linkname()).isEqualTo(text("usr/bin/a"));
    assertThat(entries.get(1).uncompressedOffset()).isEqualTo(1536);
    assertThat(entries.get(2).type()).isEqualTo(EntryType.SYMLINK);
    assertThat(entries.get(2).linkname()).isEqualTo(text("../../x/./y"));
    assertThat(entries.get(2).mode()).isEqualTo(0777);
    assertThat(entries.get(2).uncompressedOffset()).isEqualTo(2048);
  }

  @Test
  void index_devicesAndFifo() throws IOException {
    byte[] tar =
        new TarBuilder()
            .header(header("dev/null", '3').devices(1, 3).mode(0666))
            .header(header("dev/sda", '4').devices(8, 0).mode(0660))
            .header(header("dev/big", '3').raw(329, base256(1L << 40, 8)).raw(337, base256(-2, 8)))
            .header(header("run/fifo", '6').mode(0600))
            .end()
            .toByteArray();

    List<TocEntry> entries = index(tar).entries();

    assertThat(entries.get(0).type()).isEqualTo(EntryType.CHAR);
    assertThat(entries.get(0).devmajor()).isEqualTo(1);
    assertThat(entries.get(0).devminor()).isEqualTo(3);
    assertThat(entries.get(1).type()).isEqualTo(EntryType.BLOCK);
    assertThat(entries.get(1).devmajor()).isEqualTo(8);
    assertThat(entries.get(2).devmajor()).isEqualTo(1L << 40);
    assertThat(entries.get(2).devminor()).isEqualTo(-2);
    assertThat(entries.get(3).type()).isEqualTo(EntryType.FIFO);
    assertThat(entries.get(3).mode()).isEqualTo(0600);
    assertThat(entries.get(3).uncompressedOffset()).isEqualTo(2048);
  }

  @Test
  void index_directoriesKeepTheirNames() throws IOException {
    byte[] tar =
        new TarBuilder()
            .header(header("with-slash/", '5').mode(0755))
            .header(header("without-slash", '5').mode(040755))
            .header(header("./", '5'))
            .header(header("/abs/dir/", '5'))
            .end()
            .toByteArray();

    List<TocEntry> entries = index(tar).entries();

    assertThat(entries.stream().map(TocEntry::name).toList())
        .containsExactly(text("with-slash/"), text("without-slash"), text("./"), text("/abs/dir/"))
        .inOrder();
    assertThat(entries.stream().map(TocEntry::type).distinct().toList())
        .containsExactly(EntryType.DIRECTORY);
    assertThat(entries.get(1).mode()).isEqualTo(040755);
  }

  @Test
  void index_whiteoutsKeptAsTheyAre() throws IOException {
    byte[] tar =
        new TarBuilder().file("etc/.wh.foo", 0).file("var/.wh..wh..opq", 0).end().toByteArray();

    List<TocEntry> entries = index(tar).entries();

    assertThat(entries.get(0).name()).isEqualTo(text("etc/.wh.foo"));
    assertThat(entries.get(1).name()).isEqualTo(text("var/.wh..wh..opq"));
    assertThat(entries.get(1).type()).isEqualTo(EntryType.REGULAR);
  }

  @Test
  void index_ustarPrefixJoinedWithSlash() throws IOException {
    byte[] tar =
        new TarBuilder()
            .entry(fileHeader("name.txt", 0).prefix("a/b"), new byte[0])
            .end()
            .toByteArray();

    assertThat(onlyEntry(tar).name()).isEqualTo(text("a/b/name.txt"));
  }

  @Test
  void index_starPrefixEndsBeforeTimes() throws IOException {
    byte[] tar =
        new TarBuilder()
            .entry(
                fileHeader("name", 0)
                    .format(Format.STAR)
                    .prefix("star/prefix")
                    .raw(476, bytes("00000000001\0"))
                    .raw(488, bytes("00000000002\0")),
                new byte[0])
            .end()
            .toByteArray();

    assertThat(onlyEntry(tar).name()).isEqualTo(text("star/prefix/name"));
  }

  @Test
  void index_starInvalidAtime_isError() {
    byte[] tar =
        new TarBuilder()
            .entry(fileHeader("name", 0).format(Format.STAR).raw(476, bytes("zz")), new byte[0])
            .end()
            .toByteArray();

    LayerFormatException e = indexFailure(tar);

    assertThat(e.offset()).isEqualTo(0);
    assertThat(e).hasMessageThat().contains("atime field");
  }

  @Test
  void index_gnuHeaderIgnoresPrefixArea() throws IOException {
    byte[] tar =
        new TarBuilder()
            .entry(
                fileHeader("name", 0).format(Format.GNU).raw(345, bytes("00000000001\0")),
                new byte[0])
            .end()
            .toByteArray();

    assertThat(onlyEntry(tar).name()).isEqualTo(text("name"));
  }

  @Test
  void index_gnuInvalidAtime_readsLegacyPrefix() throws IOException {
    // Go before 1.8 wrote a ustar prefix into GNU headers. Go still reads it when the atime or
    // ctime field does not parse and the prefix is ASCII.
    byte[] tar =
        new TarBuilder()
            .entry(
                fileHeader("name", 0).format(Format.GNU).raw(345, bytes("legacy/dir")), new byte[0])
            .entry(
                fileHeader("other", 0).format(Format.GNU).raw(345, new byte[] {'x', (byte) 0xe9}),
                new byte[0])
            .end()
            .toByteArray();

    List<TocEntry> entries = index(tar).entries();

    assertThat(entries.get(0).name()).isEqualTo(text("legacy/dir/name"));
    assertThat(entries.get(1).name()).isEqualTo(text("other"));
  }

  @Test
  void index_base256Fields() throws IOException {
    long bigSize = 9L << 30;
    byte[] tar =
        new TarBuilder()
            .header(
                header("big", '1')
                    .raw(108, base256(3_000_000_000L, 8))
                    .raw(116, base256(-1, 8))
                    .raw(124, base256(bigSize, 12))
                    .raw(136, base256(-1, 12)))
            .header(header("huge-mtime", '2').raw(136, base256(Long.MAX_VALUE, 12)))
            .header(header("negative-mtime", '2').raw(136, base256(-62_135_596_800L, 12)))
            .end()
            .toByteArray();

    List<TocEntry> entries = index(tar).entries();

    assertThat(entries.get(0).uid()).isEqualTo(3_000_000_000L);
    assertThat(entries.get(0).gid()).isEqualTo(0xFFFF_FFFFL);
    assertThat(entries.get(0).uncompressedSize()).isEqualTo(bigSize);
    assertThat(entries.get(0).modTime()).isEqualTo("1969-12-31T23:59:59Z");
    assertThat(entries.get(1).modTime()).isEmpty();
    assertThat(entries.get(2).modTime()).isEqualTo(TocEntry.ZERO_TIME);
  }

  @Test
  void index_base256Overflow_isError() {
    byte[] field = new byte[12];
    field[0] = (byte) 0x80;
    field[3] = 1;
    byte[] tar = new TarBuilder().header(header("f", '0').raw(124, field)).end().toByteArray();

    LayerFormatException e = indexFailure(tar);

    assertThat(e).hasMessageThat().contains("size field");
    assertThat(e).hasMessageThat().contains("overflows 64 bits");
  }

  @Test
  void index_octalFieldsWithSpacesAndNuls() throws IOException {
    byte[] tar =
        new TarBuilder()
            .header(
                header("f", '2')
                    .raw(100, bytes(" 755 \0\0\0"))
                    .raw(108, bytes("\0\0 17\0 1"))
                    .raw(116, bytes("        ")))
            .end()
            .toByteArray();

    TocEntry entry = onlyEntry(tar);

    assertThat(entry.mode()).isEqualTo(0755);
    assertThat(entry.uid()).isEqualTo(017);
    assertThat(entry.gid()).isEqualTo(0);
  }

  @ParameterizedTest
  @ValueSource(strings = {"12a", "-1", "+1", "9"})
  void index_invalidOctalField_isError(String mode) {
    byte[] tar = new TarBuilder().header(header("f", '5').raw(100, bytes(mode))).toByteArray();

    LayerFormatException e = indexFailure(tar);

    assertThat(e.offset()).isEqualTo(0);
    assertThat(e).hasMessageThat().contains("invalid tar header: mode field");
  }

  @ParameterizedTest
  @CsvSource({
    "1700000000.5, 2023-11-14T22:13:20.5Z",
    "1700000000.123456789, 2023-11-14T22:13:20.123456789Z",
    "1700000000.1234567891234, 2023-11-14T22:13:20.123456789Z",
    "1700000000.000000000999, 2023-11-14T22:13:20Z",
    "1700000000.100, 2023-11-14T22:13:20.1Z",
    "1700000000., 2023-11-14T22:13:20Z",
    "+1700000000, 2023-11-14T22:13:20Z",
    "-1.5, 1969-12-31T23:59:58.5Z",
    "-0.5, 1969-12-31T23:59:59.5Z",
    "0, 1970-01-01T00:00:00Z",
    "-62135596800, 0001-01-01T00:00:00Z",
    "-62167219200, 0000-01-01T00:00:00Z",
    "253402300799.999999999, 9999-12-31T23:59:59.999999999Z",
  })
  void index_paxMtime(String mtime, String expected) throws IOException {
    byte[] tar =
        new TarBuilder().pax(PaxRecordBytes.of("mtime", mtime)).file("f", 0).end().toByteArray();

    assertThat(onlyEntry(tar).modTime()).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {"253402300800", "-62167219201", "-62167219200.5", "9223372036854775807"})
  void index_paxMtimeOutsideYears0To9999_isEmptyText(String mtime) throws IOException {
    byte[] tar =
        new TarBuilder().pax(PaxRecordBytes.of("mtime", mtime)).file("f", 0).end().toByteArray();

    assertThat(onlyEntry(tar).modTime()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"abc", ".5", "1.5a", "1.-5", "1e5", " 1", "9223372036854775808", "1_0"})
  void index_invalidPaxMtime_isError(String mtime) {
    byte[] tar =
        new TarBuilder().pax(PaxRecordBytes.of("mtime", mtime)).file("f", 0).end().toByteArray();

    LayerFormatException e = indexFailure(tar);

    assertThat(e.offset()).isEqualTo(1024);
    assertThat(e).hasMessageThat().contains("invalid PAX record mtime=");
  }

  @ParameterizedTest
  @ValueSource(strings = {"uid", "gid", "size", "atime", "ctime"})
  void index_invalidPaxNumber_isError(String key) {
    byte[] tar =
        new TarBuilder().pax(PaxRecordBytes.of(key, "12x")).file("f", 0).end().toByteArray();

    assertThat(indexFailure(tar)).hasMessageThat().contains("invalid PAX record " + key + "=");
  }

  @Test
  void index_headerOnlyTypesWithSize_skipNoData() throws IOException {
    byte[] tar =
        new TarBuilder()
            .header(header("link", '1').linkname("a").size(1000))
            .header(header("sym", '2').linkname("a").size(513))
            .header(header("chr", '3').size(1))
            .header(header("blk", '4').size(2))
            .header(header("dir/", '5').size(4096))
            .header(header("fifo", '6').size(7))
            .header(header("neg", '2').size(-5))
            .file("after", 3)
            .end()
            .toByteArray();

    List<TocEntry> entries = index(tar).entries();

    assertThat(entries.stream().map(TocEntry::uncompressedSize).toList())
        .containsExactly(1000L, 513L, 1L, 2L, 4096L, 7L, -5L, 3L)
        .inOrder();
    assertThat(entries.stream().map(TocEntry::uncompressedOffset).toList())
        .containsExactly(512L, 1024L, 1536L, 2048L, 2560L, 3072L, 3584L, 4096L)
        .inOrder();
  }

  @Test
  void index_paxSizeOnDirectory_skipsNoData() throws IOException {
    byte[] tar =
        new TarBuilder()
            .pax(PaxRecordBytes.of("size", "100000"))
            .header(header("dir/", '5'))
            .file("after", 0)
            .end()
            .toByteArray();

    List<TocEntry> entries = index(tar).entries();

    assertThat(entries.get(0).uncompressedSize()).isEqualTo(100000);
    assertThat(entries.get(1).uncompressedOffset()).isEqualTo(2048);
  }

  @Test
  void index_negativeSize_isError() {
    byte[] tar = new TarBuilder().header(fileHeader("f", -1)).end().toByteArray();

    LayerFormatException e = indexFailure(tar);

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("layer sha256:test at byte 0: invalid tar header: negative size -1 for \"f\"");
  }

  @Test
  void index_negativePaxSize_isError() {
    byte[] tar =
        new TarBuilder().pax(PaxRecordBytes.of("size", "-2")).file("f", 0).end().toByteArray();

    assertThat(indexFailure(tar)).hasMessageThat().contains("negative size -2");
  }

  @Test
  void index_globalHeader_isSkipped() throws IOException {
    byte[] tar =
        new TarBuilder()
            .paxPayload('g', PaxRecordBytes.of("comment", "3f1c2e0d8a7b").encode())
            .file("first", 0)
            .paxPayload('g', PaxRecordBytes.of("comment", "hi").encode())
            .file("second", 0)
            .end()
            .toByteArray();

    TarIndex index = index(tar);

    assertThat(index.entries()).hasSize(2);
    assertThat(index.entries().get(0).name().utf8()).isEqualTo("first");
    assertThat(index.entries().get(1).name().utf8()).isEqualTo("second");
    assertThat(index.entries().get(1).paxRecords()).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(chars = {'7', 'V', 'M', 'D', 'N', 'A', 'X', 'z', '8'})
  void index_unsupportedEntryType_isError(char typeflag) {
    byte[] tar =
        new TarBuilder()
            .file("ok", 0)
            .entry(header("odd", typeflag).size(3), bytes("abc"))
            .end()
            .toByteArray();

    LayerFormatException e = indexFailure(tar);

    assertThat(e).isNotInstanceOf(UnsupportedLayerException.class);
    assertThat(e.offset()).isEqualTo(512);
    assertThat(e).hasMessageThat().contains("unsupported tar entry type '" + typeflag + "'");
  }

  @Test
  void index_gnuOldSparseFile_isUnsupported() {
    byte[] tar =
        new TarBuilder()
            .file("ok", 0)
            .entry(
                header("sparse.img", 'S')
                    .format(Format.GNU)
                    .size(512)
                    .raw(483, bytes("0004000000\0")),
                TarBuilder.pattern(512))
            .end()
            .toByteArray();

    UnsupportedLayerException e = assertThrows(UnsupportedLayerException.class, () -> index(tar));

    assertThat(e.offset()).isEqualTo(512);
    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer sha256:test at byte 512: sparse file \"sparse.img\" (GNU old sparse format):"
                + " jsoci cannot index or unpack sparse files, so such a layer gets no zTOC and"
                + " jsoci-snapshotter leaves it to containerd; jsoci mount and jsoci image"
                + " get-file cannot read it. Rebuild the layer without sparse files (GNU tar"
                + " without --sparse) to read it with them");
  }

  @Test
  void index_paxSparse00_isUnsupported() {
    byte[] tar =
        new TarBuilder()
            .pax(
                PaxRecordBytes.of("GNU.sparse.size", "4096"),
                PaxRecordBytes.of("GNU.sparse.numblocks", "1"),
                PaxRecordBytes.of("GNU.sparse.offset", "0"),
                PaxRecordBytes.of("GNU.sparse.numbytes", "512"))
            .file("sparse", 512)
            .end()
            .toByteArray();

    UnsupportedLayerException e = assertThrows(UnsupportedLayerException.class, () -> index(tar));

    assertThat(e.offset()).isEqualTo(1024);
    assertThat(e).hasMessageThat().contains("GNU sparse PAX records");
  }

  @Test
  void index_paxSparse01_isUnsupported() {
    byte[] tar =
        new TarBuilder()
            .pax(
                PaxRecordBytes.of("GNU.sparse.name", "real-name"),
                PaxRecordBytes.of("GNU.sparse.numblocks", "1"),
                PaxRecordBytes.of("GNU.sparse.map", "0,512"))
            .file("sparse", 512)
            .end()
            .toByteArray();

    assertThrows(UnsupportedLayerException.class, () -> index(tar));
  }

  @Test
  void index_paxSparse10_isUnsupported() {
    byte[] tar =
        new TarBuilder()
            .pax(
                PaxRecordBytes.of("GNU.sparse.major", "1"),
                PaxRecordBytes.of("GNU.sparse.minor", "0"),
                PaxRecordBytes.of("GNU.sparse.name", "real-name"),
                PaxRecordBytes.of("GNU.sparse.realsize", "8192"))
            .entry(fileHeader("GNUSparseFile.0/real-name", 1024), TarBuilder.pattern(1024))
            .end()
            .toByteArray();

    UnsupportedLayerException e = assertThrows(UnsupportedLayerException.class, () -> index(tar));

    assertThat(e).hasMessageThat().contains("sparse file \"real-name\"");
  }

  @Test
  void index_paxSparseUnknownVersion_isPlainFile() throws IOException {
    byte[] tar =
        new TarBuilder()
            .pax(
                PaxRecordBytes.of("GNU.sparse.major", "2"),
                PaxRecordBytes.of("GNU.sparse.minor", "0"),
                PaxRecordBytes.of("GNU.sparse.offset", "0"),
                PaxRecordBytes.of("GNU.sparse.numbytes", "1"))
            .file("f", 1)
            .end()
            .toByteArray();

    TocEntry entry = onlyEntry(tar);

    // Go folds sparse 0.0 offset/numbytes pairs into one map record, even when it then reads
    // the entry as a plain file.
    assertThat(entry.paxRecords())
        .containsExactly(
            record("GNU.sparse.major", "2"),
            record("GNU.sparse.map", "0,1"),
            record("GNU.sparse.minor", "0"))
        .inOrder();
  }

  @Test
  void index_emptyGnuSparseMap_isPlainFile() throws IOException {
    byte[] tar =
        new TarBuilder()
            .pax(PaxRecordBytes.of("GNU.sparse.map", ""))
            .file("f", 1)
            .end()
            .toByteArray();

    assertThat(onlyEntry(tar).paxRecords()).containsExactly(record("GNU.sparse.map", ""));
  }

  @Test
  void index_sparse00RecordsOutOfOrder_isError() {
    byte[] tar =
        new TarBuilder()
            .pax(PaxRecordBytes.of("GNU.sparse.numbytes", "1"))
            .file("f", 1)
            .end()
            .toByteArray();

    LayerFormatException e = indexFailure(tar);

    assertThat(e).isNotInstanceOf(UnsupportedLayerException.class);
    assertThat(e.offset()).isEqualTo(512);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "'abc'                      | 512 | no space after the length field",
        "'x a=b\\n'                 | 512 | length field \"x\" is invalid",
        "' 6 a=b\\n'                | 512 | length field \"\" is invalid",
        "'4 a=\\n'                  | 512 | length 4 is out of range for the 5 bytes left",
        "'3 a=\\n'                  | 512 | length 3 is out of range",
        "'99 a=b\\n'                | 512 | length 99 is out of range for the 7 bytes left",
        "'00005 a=b\\n'             | 512 | length 5 is out of range",
        "'5 a=b'                    | 512 | record does not end in a newline",
        "'6 a=bc'                   | 512 | record does not end in a newline",
        "'6 a=b\\n7 a=bcd'           | 518 | record does not end in a newline",
        "'6 abc\\n'                 | 512 | record has no '='",
        "'5 =a\\n'                  | 512 | empty key",
      })
  void index_malformedPaxRecord_isErrorAtRecordOffset(String payload, long offset, String message) {
    byte[] tar =
        new TarBuilder()
            .paxPayload('x', bytes(payload.replace("\\n", "\n")))
            .file("f", 0)
            .end()
            .toByteArray();

    LayerFormatException e = indexFailure(tar);

    assertThat(e.offset()).isEqualTo(offset);
    assertThat(e).hasMessageThat().contains("invalid PAX record: " + message);
  }

  @Test
  void index_paxNulInPathOrKey_isError() {
    byte[] pathWithNul =
        new TarBuilder()
            .pax(new PaxRecordBytes(bytes("path"), new byte[] {'a', 0, 'b'}))
            .file("f", 0)
            .end()
            .toByteArray();
    byte[] keyWithNul =
        new TarBuilder()
            .pax(new PaxRecordBytes(new byte[] {'k', 0}, bytes("v")))
            .file("f", 0)
            .end()
            .toByteArray();

    assertThat(indexFailure(pathWithNul))
        .hasMessageThat()
        .contains("NUL byte in the value of path");
    assertThat(indexFailure(keyWithNul)).hasMessageThat().contains("NUL byte in key");
  }

  @Test
  void index_nulInOtherPaxValue_isKept() throws IOException {
    byte[] value = {0, 0, 'v', 0};
    byte[] tar =
        new TarBuilder()
            .pax(new PaxRecordBytes(bytes("SCHILY.xattr.user.z"), value))
            .file("f", 0)
            .end()
            .toByteArray();

    assertThat(onlyEntry(tar).paxRecords())
        .containsExactly(new PaxRecord(text("SCHILY.xattr.user.z"), ByteString.of(value)));
  }

  @Test
  void index_metaHeaderOverLimit_isError() {
    byte[] tar =
        new TarBuilder()
            .file("ok", 0)
            .header(header("./PaxHeaders/huge", 'x').raw(124, base256(1L << 40, 12)))
            .toByteArray();

    LayerFormatException e = indexFailure(tar);

    assertThat(e.offset()).isEqualTo(512);
    assertThat(e)
        .hasMessageThat()
        .contains("PAX extended header of 1099511627776 bytes exceeds the maximum of 1048576");
  }

  @Test
  void index_metaHeaderAtLimit_isAccepted() throws IOException {
    int size = TarIndexer.MAX_META_HEADER_SIZE;
    byte[] name = TarBuilder.pattern(size - 1);
    byte[] tar = new TarBuilder().longName(name).file("short", 0).end().toByteArray();

    assertThat(onlyEntry(tar).name()).isEqualTo(ByteString.of(name));
  }

  @Test
  void index_notTar_isError() {
    byte[] text = bytes("This is a README, not a tar archive.\n".repeat(40));

    LayerFormatException e = indexFailure(text);

    assertThat(e.offset()).isEqualTo(0);
    assertThat(e).hasMessageThat().startsWith("layer sha256:test at byte 0: not a tar archive: ");
  }

  @Test
  void index_checksumMismatchInLaterHeader_isError() {
    byte[] tar =
        new TarBuilder()
            .file("ok", 1)
            .header(header("bad", '5').checksumField(bytes("0000001\0")))
            .end()
            .toByteArray();

    LayerFormatException e = indexFailure(tar);

    assertThat(e.offset()).isEqualTo(1024);
    assertThat(e)
        .hasMessageThat()
        .matches(
            "layer sha256:test at byte 1024: invalid tar header: checksum 1 does not match the"
                + " computed sum [0-9]+");
  }

  @Test
  void index_signedChecksum_isAccepted() throws IOException {
    byte[] name = {'n', (byte) 0xff, (byte) 0xfe, (byte) 0xfd};
    byte[] tar =
        new TarBuilder()
            .entry(fileHeader("", 0).name(name).signedChecksum(), new byte[0])
            .end()
            .toByteArray();

    assertThat(onlyEntry(tar).name()).isEqualTo(ByteString.of(name));
  }

  @Test
  void index_zeroBlockThenGarbage_isError() {
    byte[] tar = new TarBuilder().file("f", 1).zeroBlock().file("g", 1).toByteArray();

    LayerFormatException e = indexFailure(tar);

    assertThat(e.offset()).isEqualTo(1536);
    assertThat(e)
        .hasMessageThat()
        .contains("invalid end-of-archive marker: a zero block is followed by a non-zero block");
  }

  @Test
  void index_eofAtBlockBoundary_endsArchive() throws IOException {
    byte[] tar = new TarBuilder().file("f", 700).toByteArray();

    TarIndex index = index(tar);

    assertThat(index.entries()).hasSize(1);
    assertThat(index.uncompressedArchiveSize()).isEqualTo(1536);
  }

  @Test
  void index_eofAfterZeroBlock_endsArchive() throws IOException {
    byte[] tar = new TarBuilder().file("f", 700).zeroBlock().toByteArray();

    assertThat(index(tar).uncompressedArchiveSize()).isEqualTo(2048);
  }

  @Test
  void index_emptyStream_isEmptyArchive() throws IOException {
    TarIndex index = index(new byte[0]);

    assertThat(index.entries()).isEmpty();
    assertThat(index.uncompressedArchiveSize()).isEqualTo(0);
  }

  @Test
  void index_metaHeaderBeforeEnd_isIgnored() throws IOException {
    byte[] tar =
        new TarBuilder()
            .file("f", 0)
            .pax(PaxRecordBytes.of("path", "dangling"))
            .longName(bytes("dangling"))
            .end()
            .toByteArray();

    TarIndex index = index(tar);

    assertThat(index.entries()).hasSize(1);
    assertThat(index.uncompressedArchiveSize()).isEqualTo(tar.length);
  }

  @Test
  void index_archiveSizeExcludesRecordPadding() throws IOException {
    byte[] tar = new TarBuilder().file("f", 100).end().padTo(10240).toByteArray();
    ByteArrayInputStream stream = new ByteArrayInputStream(tar);

    TarIndex index = TarIndexer.index(stream, LAYER);

    assertThat(index.uncompressedArchiveSize()).isEqualTo(2048);
    assertThat(stream.available()).isEqualTo(10240 - 2048);
  }

  /**
   * Cuts an archive at every offset. The cut is an error inside a header, inside the records of a
   * pax header or inside data, and the end of the archive at a block boundary or inside padding, as
   * in Go.
   */
  @Test
  void index_truncatedAtEveryOffset() throws IOException {
    byte[] tar =
        new TarBuilder()
            .pax(PaxRecordBytes.of("path", "first"))
            .file("f", 700)
            .file("g", 10)
            .end()
            .toByteArray();
    // Layout: x header [0,512), its 14-byte record [512,526), padding [526,1024), f header
    // [1024,1536), f data [1536,2236), padding [2236,2560), g header [2560,3072), g data
    // [3072,3082), padding [3082,3584), end marker [3584,4608).
    assertThat(tar.length).isEqualTo(4608);
    for (int cut = 0; cut <= tar.length; cut++) {
      byte[] truncated = Arrays.copyOf(tar, cut);
      boolean insideRecords = cut >= 512 && cut < 526;
      boolean insideData = (cut >= 1536 && cut < 2236) || (cut >= 3072 && cut < 3082);
      boolean insidePadding =
          (cut >= 526 && cut < 1024) || (cut >= 2236 && cut < 2560) || (cut >= 3082 && cut < 3584);

      if (insideRecords || insideData || (cut % 512 != 0 && !insidePadding)) {
        LayerFormatException e = indexFailure(truncated);
        assertThat(e.offset()).isEqualTo(cut);
        assertThat(e).hasMessageThat().contains("unexpected end of stream");
        continue;
      }
      TarIndex index = index(truncated);
      int expectedEntries = cut >= 3082 ? 2 : cut >= 2236 ? 1 : 0;
      assertThat(index.entries()).hasSize(expectedEntries);
      assertThat(index.uncompressedArchiveSize()).isEqualTo(cut);
    }
  }

  @Test
  void index_truncatedInsideData_namesEntry() {
    byte[] tar = Arrays.copyOf(new TarBuilder().file("etc/big", 5000).toByteArray(), 3000);

    LayerFormatException e = indexFailure(tar);

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "layer sha256:test at byte 3000: unexpected end of stream inside the data of"
                + " \"etc/big\": 2512 of its bytes are missing");
  }

  @Test
  void index_streamWithShortAndEmptyReads() throws IOException {
    byte[] tar =
        new TarBuilder()
            .pax(PaxRecordBytes.of("path", "long/name"))
            .file("f", 100_000)
            .file("g", 3)
            .end()
            .padTo(10240)
            .toByteArray();
    InputStream stingy =
        new FilterInputStream(new ByteArrayInputStream(tar)) {
          private int calls;

          @Override
          public int read(byte[] buffer, int offset, int length) throws IOException {
            if (++calls % 3 == 0) {
              return 0;
            }
            return super.read(buffer, offset, Math.min(length, 7));
          }
        };

    TarIndex index = TarIndexer.index(stingy, LAYER);

    assertThat(index.entries()).hasSize(2);
    assertThat(index.entries().get(0).name()).isEqualTo(text("long/name"));
    assertThat(index.entries().get(1).uncompressedOffset()).isEqualTo(1536 + 100_352 + 512);
    assertThat(index.uncompressedArchiveSize()).isEqualTo(1536 + 100_352 + 1024 + 1024);
  }
}
