package dev.jsoci.fs;

import static com.google.common.truth.Truth.assertThat;
import static dev.jsoci.fs.TocEntryBuilder.directory;
import static dev.jsoci.fs.TocEntryBuilder.entry;
import static dev.jsoci.fs.TocEntryBuilder.file;
import static dev.jsoci.fs.TocEntryBuilder.hardLink;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.TocEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Builds trees from hand-made TOC entries and checks what each node presents. */
class LayerTreeTest {
  private static final String LAYER = "sha256:test";

  private static LayerTree tree(TocEntry... entries) throws InvalidLayerException {
    return LayerTree.of(List.of(entries), LAYER);
  }

  private static Node node(LayerTree tree, String path) {
    return tree.find(ByteString.utf8(path)).orElseThrow(() -> new AssertionError("no " + path));
  }

  private static List<String> names(LayerTree tree, String directory) throws ErrnoException {
    List<String> names = new ArrayList<>();
    for (DirectoryEntry entry : tree.list(node(tree, directory))) {
      names.add(entry.name().utf8());
    }
    return names;
  }

  @Test
  void regularFile_attributesFromEntry() throws Exception {
    LayerTree tree =
        tree(
            entry("./bin/tool", EntryType.REGULAR)
                .offset(2048)
                .size(5000)
                .mode(0104755)
                .owner(1000, 4294967295L)
                .modTime("2023-11-14T22:13:20.123456789Z")
                .build());

    Node tool = node(tree, "bin/tool");
    assertThat(tool.type()).isEqualTo(NodeType.REGULAR_FILE);
    assertThat(tool.mode()).isEqualTo(0104755);
    assertThat(tool.permissions()).isEqualTo(04755);
    assertThat(tool.uid()).isEqualTo(1000);
    assertThat(tool.gid()).isEqualTo(4294967295L);
    assertThat(tool.size()).isEqualTo(5000);
    assertThat(tool.blocks()).isEqualTo(16);
    assertThat(tool.dataOffset()).isEqualTo(2048);
    assertThat(tool.mtimeSeconds()).isEqualTo(1700000000L);
    assertThat(tool.mtimeNanos()).isEqualTo(123456789);
    assertThat(tool.nlink()).isEqualTo(1);
    assertThat(tool.rdev()).isEqualTo(0);
  }

  @Test
  void mode_typeBitsComeFromEntryType() throws Exception {
    // The tar mode claims a directory and carries setgid and sticky bits.
    LayerTree tree =
        tree(
            entry("f", EntryType.REGULAR).mode(0043777).build(),
            entry("p", EntryType.FIFO).mode(0600).build(),
            entry("d", EntryType.DIRECTORY).mode(0).build());

    assertThat(node(tree, "f").mode()).isEqualTo(0103777);
    assertThat(node(tree, "p").mode()).isEqualTo(0010600);
    assertThat(node(tree, "d").mode()).isEqualTo(0040000);
  }

  @Test
  void blocks_roundUpToFourKilobytes() throws Exception {
    LayerTree tree =
        tree(
            entry("empty", EntryType.REGULAR).size(0).build(),
            entry("one", EntryType.REGULAR).size(1).build(),
            entry("page", EntryType.REGULAR).size(4096).build(),
            entry("more", EntryType.REGULAR).size(4097).build());

    assertThat(node(tree, "empty").blocks()).isEqualTo(0);
    assertThat(node(tree, "one").blocks()).isEqualTo(8);
    assertThat(node(tree, "page").blocks()).isEqualTo(8);
    assertThat(node(tree, "more").blocks()).isEqualTo(16);
  }

  @Test
  void symlink_sizeIsTargetLength() throws Exception {
    LayerTree tree = tree(entry("link", EntryType.SYMLINK).linkname("../a/./b").size(0).build());

    Node link = node(tree, "link");
    assertThat(link.type()).isEqualTo(NodeType.SYMLINK);
    assertThat(link.mode() & 0170000).isEqualTo(0120000);
    assertThat(link.linkTarget()).isEqualTo(ByteString.utf8("../a/./b"));
    assertThat(link.size()).isEqualTo(8);
  }

  @Test
  void devices_rdevInLinuxEncoding() throws Exception {
    LayerTree tree =
        tree(
            entry("null", EntryType.CHAR).device(1, 3).build(),
            entry("sda1", EntryType.BLOCK).device(8, 1).build(),
            entry("big", EntryType.CHAR).device(0x12345, 0xABCDEF).build());

    assertThat(node(tree, "null").type()).isEqualTo(NodeType.CHAR_DEVICE);
    assertThat(node(tree, "null").rdev()).isEqualTo(0x103);
    assertThat(node(tree, "sda1").type()).isEqualTo(NodeType.BLOCK_DEVICE);
    assertThat(node(tree, "sda1").rdev()).isEqualTo(0x801);
    // The value glibc's makedev(0x12345, 0xabcdef) returns.
    assertThat(node(tree, "big").rdev()).isEqualTo(0x1_200A_BCD3_45EFL);
  }

  @Test
  void implicitParents_directoriesWithDefaults() throws Exception {
    LayerTree tree =
        tree(entry("a/b/c", EntryType.REGULAR).owner(5, 6).modTime("2020-01-01T00:00:00Z").build());

    for (String path : List.of("a", "a/b")) {
      Node parent = node(tree, path);
      assertThat(parent.mode()).isEqualTo(0040755);
      assertThat(parent.uid()).isEqualTo(0);
      assertThat(parent.gid()).isEqualTo(0);
      assertThat(parent.mtimeSeconds()).isEqualTo(0);
      assertThat(parent.mtimeNanos()).isEqualTo(0);
      assertThat(parent.xattrs()).isEmpty();
      assertThat(parent.nlink()).isEqualTo(path.equals("a") ? 3 : 2);
    }
    Node root = tree.root();
    assertThat(root.mode()).isEqualTo(0040755);
    assertThat(root.mtimeSeconds()).isEqualTo(0);
    assertThat(root.nlink()).isEqualTo(3);
  }

  @Test
  void explicitDirectoryAfterImplicit_replacesAttributesKeepsInode() throws Exception {
    LayerTree tree =
        tree(
            file("a/x"),
            entry("a/", EntryType.DIRECTORY)
                .mode(0700)
                .owner(7, 8)
                .pax("SCHILY.xattr.user.k", "v")
                .build());

    Node a = node(tree, "a");
    assertThat(a.ino()).isEqualTo(5);
    assertThat(a.mode()).isEqualTo(0040700);
    assertThat(a.uid()).isEqualTo(7);
    assertThat(a.xattrs()).containsExactly(ByteString.utf8("user.k"), ByteString.utf8("v"));
    assertThat(names(tree, "a")).containsExactly(".", "..", "x").inOrder();
  }

  @Test
  void rootEntry_updatesRootWithoutDotChild() throws Exception {
    LayerTree tree = tree(entry("./", EntryType.DIRECTORY).mode(0750).owner(1, 2).build());

    assertThat(tree.root().mode()).isEqualTo(0040750);
    assertThat(tree.root().uid()).isEqualTo(1);
    assertThat(tree.root().ino()).isEqualTo(4);
    assertThat(names(tree, "")).containsExactly(".", "..").inOrder();
  }

  @Test
  void names_cleanedLikePaths() throws Exception {
    LayerTree tree = tree(file("./a//b/../c"), file("/abs"), directory("dir/sub/"));

    assertThat(names(tree, "")).containsExactly(".", "..", "a", "abs", "dir").inOrder();
    assertThat(names(tree, "a")).containsExactly(".", "..", "c").inOrder();
    assertThat(names(tree, "dir")).containsExactly(".", "..", "sub").inOrder();
  }

  @Test
  void dotDotNames_stayInsideLayer() throws Exception {
    LayerTree tree =
        tree(file("../../etc/passwd"), file("/../x"), file("a/../../../b"), file("..//../c"));

    assertThat(names(tree, "")).containsExactly(".", "..", "b", "c", "etc", "x").inOrder();
    assertThat(names(tree, "etc")).containsExactly(".", "..", "passwd").inOrder();
    assertThat(tree.find(ByteString.utf8("../etc/passwd")).orElseThrow())
        .isSameInstanceAs(node(tree, "etc/passwd"));
  }

  @Test
  void hardLinkWithDotDot_resolvesInsideLayer() throws Exception {
    LayerTree tree = tree(file("etc/passwd"), hardLink("h", "../../../etc/passwd"));

    assertThat(node(tree, "h")).isSameInstanceAs(node(tree, "etc/passwd"));
  }

  @Test
  void hardLinkOutsideLayer_rejected() {
    assertThrows(InvalidLayerException.class, () -> tree(hardLink("h", "../../etc/shadow")));
  }

  @Test
  void nameWithNul_rejected() {
    InvalidLayerException e =
        assertThrows(InvalidLayerException.class, () -> tree(file("a"), file("a\0hidden")));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("invalid layer sha256:test: entry name \"a\\0hidden\" contains a NUL byte");
  }

  @Test
  void directoryNameWithNul_rejected() {
    assertThrows(InvalidLayerException.class, () -> tree(file("d\0x/file")));
  }

  @Test
  void componentOver255Bytes_rejected() {
    String longName = "n".repeat(256);

    InvalidLayerException e =
        assertThrows(InvalidLayerException.class, () -> tree(file("dir/" + longName + "/f")));

    assertThat(e).hasMessageThat().contains("has a component of 256 bytes, more than the 255");
  }

  @Test
  void longPathOfShortComponents_accepted() throws Exception {
    String component = "c".repeat(255);
    String path = String.join("/", List.of(component, component, component, component, "f"));

    LayerTree tree = tree(file(path));

    assertThat(tree.find(ByteString.utf8(path))).isPresent();
  }

  @Test
  void inodes_sequentialInTarOrderAndStable() throws Exception {
    List<TocEntry> entries =
        List.of(directory("./"), file("z"), file("a/b"), hardLink("h", "z"), directory("a/"));

    LayerTree first = LayerTree.of(entries, LAYER);
    LayerTree second = LayerTree.of(entries, LAYER);

    // Root 4; z 5; a (implicit) 6; a/b 7; the hard link and the later "a/" take no id.
    assertThat(first.root().ino()).isEqualTo(4);
    assertThat(node(first, "z").ino()).isEqualTo(5);
    assertThat(node(first, "a").ino()).isEqualTo(6);
    assertThat(node(first, "a/b").ino()).isEqualTo(7);
    assertThat(node(first, "h").ino()).isEqualTo(5);
    for (String path : List.of("", "z", "a", "a/b", "h")) {
      assertThat(node(second, path).ino()).isEqualTo(node(first, path).ino());
    }
  }

  @Test
  void hardLinks_shareNodeAndCountNames() throws Exception {
    LayerTree tree =
        tree(
            entry("data", EntryType.REGULAR).size(10).offset(1024).build(),
            hardLink("d/one", "./data"),
            hardLink("d/two", "/d/one"));

    Node data = node(tree, "data");
    assertThat(node(tree, "d/one")).isSameInstanceAs(data);
    assertThat(node(tree, "d/two")).isSameInstanceAs(data);
    assertThat(data.nlink()).isEqualTo(3);
    assertThat(data.size()).isEqualTo(10);
  }

  @Test
  void hardLink_toMissingTarget_rejected() {
    InvalidLayerException e =
        assertThrows(InvalidLayerException.class, () -> tree(hardLink("h", "missing")));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "invalid layer sha256:test: hard link \"h\" points to \"missing\", which no earlier"
                + " entry of the layer creates");
  }

  @Test
  void hardLink_toLaterEntry_rejected() {
    assertThrows(InvalidLayerException.class, () -> tree(hardLink("h", "later"), file("later")));
  }

  @Test
  void hardLink_toDirectory_rejected() {
    InvalidLayerException e =
        assertThrows(InvalidLayerException.class, () -> tree(directory("d"), hardLink("h", "d")));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("invalid layer sha256:test: hard link \"h\" points to directory \"d\"");
  }

  @Test
  void linkCounts_directoriesCountSubdirectories() throws Exception {
    LayerTree tree =
        tree(directory("d"), directory("d/s1"), directory("d/s2"), file("d/f"), file("d/s1/f"));

    assertThat(tree.root().nlink()).isEqualTo(3);
    assertThat(node(tree, "d").nlink()).isEqualTo(4);
    assertThat(node(tree, "d/s1").nlink()).isEqualTo(2);
  }

  @Test
  void duplicateFile_laterEntryWins() throws Exception {
    LayerTree tree =
        tree(
            entry("f", EntryType.REGULAR).size(1).build(),
            entry("f", EntryType.REGULAR).size(2).mode(0600).build());

    assertThat(node(tree, "f").size()).isEqualTo(2);
    assertThat(node(tree, "f").mode()).isEqualTo(0100600);
    assertThat(node(tree, "f").ino()).isEqualTo(6);
    assertThat(names(tree, "")).containsExactly(".", "..", "f").inOrder();
  }

  @Test
  void duplicate_fileReplacesDirectory() throws Exception {
    LayerTree tree = tree(directory("x"), directory("x/sub"), file("x/f"), file("x"));

    assertThat(node(tree, "x").type()).isEqualTo(NodeType.REGULAR_FILE);
    assertThat(tree.find(ByteString.utf8("x/f"))).isEmpty();
    assertThat(tree.root().nlink()).isEqualTo(2);
  }

  @Test
  void duplicate_directoryReplacesFile() throws Exception {
    LayerTree tree = tree(file("x"), directory("x"), file("x/f"));

    assertThat(node(tree, "x").type()).isEqualTo(NodeType.DIRECTORY);
    assertThat(names(tree, "x")).containsExactly(".", "..", "f").inOrder();
    assertThat(tree.root().nlink()).isEqualTo(3);
  }

  @Test
  void entryUnderFile_replacesFileWithImplicitDirectory() throws Exception {
    LayerTree tree = tree(file("x"), file("x/f"));

    assertThat(node(tree, "x").type()).isEqualTo(NodeType.DIRECTORY);
    assertThat(node(tree, "x/f").type()).isEqualTo(NodeType.REGULAR_FILE);
  }

  @Test
  void hardLink_keepsOldNodeWhenNameReplaced() throws Exception {
    LayerTree tree =
        tree(
            entry("a", EntryType.REGULAR).size(1).build(),
            hardLink("b", "a"),
            entry("a", EntryType.REGULAR).size(2).build());

    assertThat(node(tree, "b").size()).isEqualTo(1);
    assertThat(node(tree, "b").nlink()).isEqualTo(1);
    assertThat(node(tree, "a").size()).isEqualTo(2);
  }

  @Test
  void whiteout_presentedAsCharDeviceZeroZero() throws Exception {
    LayerTree tree =
        tree(
            directory("d"),
            entry("d/.wh.gone", EntryType.REGULAR)
                .mode(0644)
                .owner(3, 4)
                .size(0)
                .modTime("2021-06-01T00:00:00.5Z")
                .build());

    Node whiteout = node(tree, "d/gone");
    assertThat(whiteout.type()).isEqualTo(NodeType.CHAR_DEVICE);
    assertThat(whiteout.mode()).isEqualTo(0020000);
    assertThat(whiteout.rdev()).isEqualTo(0);
    assertThat(whiteout.uid()).isEqualTo(0);
    assertThat(whiteout.gid()).isEqualTo(0);
    assertThat(whiteout.size()).isEqualTo(0);
    assertThat(whiteout.nlink()).isEqualTo(1);
    assertThat(whiteout.ino()).isEqualTo(6);
    assertThat(whiteout.mtimeSeconds()).isEqualTo(1622505600L);
    assertThat(whiteout.mtimeNanos()).isEqualTo(500_000_000);
    assertThat(names(tree, "d")).containsExactly(".", "..", "gone").inOrder();
  }

  @Test
  void whiteoutNames_neverLookedUp() throws Exception {
    LayerTree tree = tree(file("d/.wh.gone"), file("d/.wh..wh..opq"), file("d/.wh..wh.plnk"));
    Node d = node(tree, "d");

    for (String name : List.of(".wh.gone", ".wh..wh..opq", ".wh..wh.plnk", ".wh.")) {
      ErrnoException e =
          assertThrows(ErrnoException.class, () -> tree.lookup(d, ByteString.utf8(name)));
      assertThat(e.errno()).isEqualTo(Errno.ENOENT);
    }
    assertThat(names(tree, "d")).containsExactly(".", "..", "gone").inOrder();
  }

  @Test
  void whiteoutAndRealEntry_realWins() throws Exception {
    for (List<TocEntry> entries :
        List.of(List.of(file("d/x"), file("d/.wh.x")), List.of(file("d/.wh.x"), file("d/x")))) {
      LayerTree tree = LayerTree.of(entries, LAYER);

      assertThat(node(tree, "d/x").type()).isEqualTo(NodeType.REGULAR_FILE);
      assertThat(names(tree, "d")).containsExactly(".", "..", "x").inOrder();
    }
  }

  @Test
  void whiteoutsAndOpaque_sameTreeInAnyOrder() throws Exception {
    List<TocEntry> entries =
        List.of(
            directory("d"),
            file("d/.wh..wh..opq"),
            file("d/.wh.old"),
            file("d/new"),
            directory("d/sub"),
            file("d/sub/.wh.deep"));
    List<List<TocEntry>> orders = new ArrayList<>();
    permutations(new ArrayList<>(entries), 0, orders);

    Map<String, List<String>> expected = new LinkedHashMap<>();
    expected.put("d", List.of(".", "..", "new", "old", "sub"));
    expected.put("d/sub", List.of(".", "..", "deep"));
    for (List<TocEntry> order : orders) {
      LayerTree tree = LayerTree.of(order, LAYER);

      for (Map.Entry<String, List<String>> directory : expected.entrySet()) {
        assertThat(names(tree, directory.getKey()))
            .containsExactlyElementsIn(directory.getValue())
            .inOrder();
      }
      assertThat(tree.isOpaque(node(tree, "d"))).isTrue();
      assertThat(tree.isOpaque(node(tree, "d/sub"))).isFalse();
      assertThat(node(tree, "d/old").type()).isEqualTo(NodeType.CHAR_DEVICE);
      assertThat(node(tree, "d/sub/deep").rdev()).isEqualTo(0);
    }
    assertThat(orders).hasSize(720);
  }

  private static void permutations(List<TocEntry> items, int from, List<List<TocEntry>> out) {
    if (from == items.size()) {
      out.add(List.copyOf(items));
      return;
    }
    for (int i = from; i < items.size(); i++) {
      java.util.Collections.swap(items, from, i);
      permutations(items, from + 1, out);
      java.util.Collections.swap(items, from, i);
    }
  }

  @Test
  void opaqueMarker_inImplicitDirectory() throws Exception {
    LayerTree tree = tree(file("a/b/.wh..wh..opq"));

    assertThat(tree.isOpaque(node(tree, "a/b"))).isTrue();
    assertThat(tree.isOpaque(node(tree, "a"))).isFalse();
    assertThat(names(tree, "a/b")).containsExactly(".", "..").inOrder();
  }

  @Test
  void listing_dotEntriesThenUnsignedByteOrder() throws Exception {
    LayerTree tree =
        tree(
            file("d/b"),
            file("d/\u00e9"),
            file("d/A"),
            file("d/a"),
            file("d/.hidden"),
            file("d/_"));

    List<DirectoryEntry> listing = tree.list(node(tree, "d"));

    assertThat(names(tree, "d"))
        .containsExactly(".", "..", ".hidden", "A", "_", "a", "b", "\u00e9")
        .inOrder();
    assertThat(listing.get(0).node()).isSameInstanceAs(node(tree, "d"));
    assertThat(listing.get(1).node()).isSameInstanceAs(tree.root());
    assertThat(tree.list(tree.root()).get(1).node()).isSameInstanceAs(tree.root());
  }

  @Test
  void list_ofFile_isNotDirectory() throws Exception {
    LayerTree tree = tree(file("f"));

    ErrnoException e = assertThrows(ErrnoException.class, () -> tree.list(node(tree, "f")));

    assertThat(e.errno()).isEqualTo(Errno.ENOTDIR);
  }

  @Test
  void lookup_inFile_isNotDirectory() throws Exception {
    LayerTree tree = tree(file("f"));

    ErrnoException e =
        assertThrows(
            ErrnoException.class, () -> tree.lookup(node(tree, "f"), ByteString.utf8("x")));

    assertThat(e.errno()).isEqualTo(Errno.ENOTDIR);
  }

  @Test
  void lookup_missing_isNoEntry() throws Exception {
    LayerTree tree = tree(file("f"));

    ErrnoException e =
        assertThrows(ErrnoException.class, () -> tree.lookup(tree.root(), ByteString.utf8("g")));

    assertThat(e.errno()).isEqualTo(Errno.ENOENT);
  }

  @Test
  void xattrs_onlySchilyRecordsKeptRaw() throws Exception {
    ByteString binary = ByteString.of(new byte[] {0, (byte) 0xff, 10});
    LayerTree tree =
        tree(
            entry("f", EntryType.REGULAR)
                .pax("SCHILY.xattr.user.binary", binary)
                .pax("SCHILY.xattr.user.empty", "")
                .pax("SCHILY.xattr.security.capability", "cap")
                .pax("LIBARCHIVE.xattr.user.other", "dmFsdWU=")
                .pax("mtime", "1700000000.5")
                .pax("SCHILY.xattr.", "nameless")
                .build());

    assertThat(node(tree, "f").xattrs())
        .containsExactly(
            ByteString.utf8("security.capability"),
            ByteString.utf8("cap"),
            ByteString.utf8("user.binary"),
            binary,
            ByteString.utf8("user.empty"),
            ByteString.EMPTY)
        .inOrder();
  }

  @Test
  void zeroTime_isEpoch() throws Exception {
    LayerTree tree =
        tree(
            entry("unset", EntryType.REGULAR).modTime("").build(),
            entry("zero", EntryType.REGULAR).modTime(TocEntry.ZERO_TIME).build(),
            entry("old", EntryType.REGULAR).modTime("1969-12-31T23:59:59.25Z").build(),
            entry("zone", EntryType.REGULAR).modTime("2023-11-15T06:13:20+08:00").build());

    assertThat(node(tree, "unset").mtimeSeconds()).isEqualTo(0);
    assertThat(node(tree, "zero").mtimeSeconds()).isEqualTo(0);
    assertThat(node(tree, "old").mtimeSeconds()).isEqualTo(-1);
    assertThat(node(tree, "old").mtimeNanos()).isEqualTo(250_000_000);
    assertThat(node(tree, "zone").mtimeSeconds()).isEqualTo(1700000000L);
  }

  @Test
  void counts_forStatfs() throws Exception {
    LayerTree tree =
        tree(
            entry("a", EntryType.REGULAR).size(10000).build(),
            hardLink("b", "a"),
            file("d/.wh.x"),
            file("d/.wh..wh..opq"));

    // root, a (once for two names), d, the whiteout x.
    assertThat(tree.fileCount()).isEqualTo(4);
    assertThat(tree.blockCount()).isEqualTo(3);
  }

  @Test
  void deepTree_builtWithoutRecursion() throws Exception {
    String path = "d/".repeat(20_000) + "f";

    LayerTree tree = tree(file(path));

    assertThat(node(tree, path).type()).isEqualTo(NodeType.REGULAR_FILE);
  }
}
