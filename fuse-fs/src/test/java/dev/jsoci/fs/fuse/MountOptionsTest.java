package dev.jsoci.fs.fuse;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class MountOptionsTest {
  @Test
  void fuseOptions_defaults() {
    MountOptions options = MountOptions.builder("sha256:abc").build();

    assertThat(options.fuseOptions())
        .containsExactly(
            "ro",
            "allow_other",
            "default_permissions",
            "kernel_cache",
            "use_ino",
            "suid",
            "fsname=sha256:abc",
            "subtype=jsoci",
            "entry_timeout=3600",
            "attr_timeout=3600",
            "negative_timeout=3600",
            "max_read=131072")
        .inOrder();
  }

  @Test
  void fuseOptions_fractionalTimeouts() {
    MountOptions options =
        MountOptions.builder("layer")
            .entryTimeout(Duration.ofMillis(1500))
            .attrTimeout(Duration.ZERO)
            .negativeTimeout(Duration.ofMillis(10))
            .build();

    assertThat(options.fuseOptions())
        .containsAtLeast("entry_timeout=1.5", "attr_timeout=0", "negative_timeout=0.01");
  }

  @Test
  void toBuilder_keepsEverySetting() {
    MountOptions options =
        MountOptions.builder("layer")
            .subtype("other")
            .allowOther(false)
            .mountTimeout(Duration.ofSeconds(3))
            .build();

    assertThat(options.toBuilder().build()).isEqualTo(options);
  }

  @Test
  void fsname_withComma_rejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MountOptions.builder("a,b").build());

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("fsname must be non-empty, without commas, backslashes or spaces: \"a,b\"");
  }

  @Test
  void timeouts_validated() {
    assertThrows(
        IllegalArgumentException.class,
        () -> MountOptions.builder("x").entryTimeout(Duration.ofSeconds(-1)).build());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> MountOptions.builder("x").mountTimeout(Duration.ZERO).build());
    assertThat(e).hasMessageThat().isEqualTo("mountTimeout must be positive: PT0S");
  }
}
