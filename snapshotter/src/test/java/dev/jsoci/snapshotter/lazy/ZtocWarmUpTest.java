package dev.jsoci.snapshotter.lazy;

import static com.google.common.truth.Truth.assertThat;

import org.junit.jupiter.api.Test;

class ZtocWarmUpTest {
  @Test
  void warmUp_syntheticLayer_decodesEveryEntry() throws Exception {
    // 64 directories, each with 64 files and one symbolic link.
    assertThat(ZtocWarmUp.warmUp()).isEqualTo(64 + 64 * 64 + 64);
  }
}
