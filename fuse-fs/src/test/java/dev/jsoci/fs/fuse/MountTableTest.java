package dev.jsoci.fs.fuse;

import static com.google.common.truth.Truth.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MountTableTest {
  @Test
  void parse_fuseLineWithEscapedSpace() {
    MountTable.MountEntry entry =
        MountTable.parse(
            "45 27 0:40 / /tmp/a\\040b ro,nodev,relatime shared:5 - fuse.jsoci sha256:abc"
                + " ro,user_id=0,group_id=0,allow_other");

    assertThat(entry)
        .isEqualTo(
            new MountTable.MountEntry(
                Path.of("/tmp/a b"),
                "fuse.jsoci",
                "sha256:abc",
                "ro,nodev,relatime",
                "ro,user_id=0,group_id=0,allow_other"));
  }

  @Test
  void parse_utf8Bytes() {
    MountTable.MountEntry entry =
        MountTable.parse("1 2 0:1 / /mnt/\u00c3\u00a9 rw - ext4 /dev/vda rw");

    assertThat(entry.mountPoint()).isEqualTo(Path.of("/mnt/\u00e9"));
  }

  @Test
  void parse_malformed_null() {
    assertThat(MountTable.parse("not a mountinfo line")).isNull();
  }

  @Test
  void read_listsRoot() throws Exception {
    assertThat(MountTable.read().stream().map(MountTable.MountEntry::mountPoint).toList())
        .contains(Path.of("/"));
  }
}
