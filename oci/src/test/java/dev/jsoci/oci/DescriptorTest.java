package dev.jsoci.oci;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DescriptorTest {
  private static final Digest DIGEST = Digest.parse("sha256:" + "d".repeat(64));

  @Test
  void constructor_copiesCollectionsAndData() {
    List<String> urls = new ArrayList<>(List.of("https://example.com/blob"));
    Map<String, String> annotations = new HashMap<>(Map.of("k", "v"));
    byte[] data = {1, 2, 3};

    Descriptor descriptor = new Descriptor("m", DIGEST, 3, urls, annotations, data, null, "");
    urls.add("changed");
    annotations.put("k2", "v2");
    data[0] = 9;
    descriptor.data()[1] = 9;

    assertThat(descriptor.urls()).containsExactly("https://example.com/blob");
    assertThat(descriptor.annotations()).containsExactly("k", "v");
    assertThat(descriptor.data()).isEqualTo(new byte[] {1, 2, 3});
    assertThrows(UnsupportedOperationException.class, () -> descriptor.annotations().put("x", "y"));
  }

  @Test
  void equals_comparesDataByContent() {
    Descriptor first = Descriptor.builder("m", DIGEST, 3).data(new byte[] {1, 2, 3}).build();
    Descriptor second = Descriptor.builder("m", DIGEST, 3).data(new byte[] {1, 2, 3}).build();
    Descriptor other = Descriptor.builder("m", DIGEST, 3).data(new byte[] {1, 2, 4}).build();

    assertThat(first).isEqualTo(second);
    assertThat(first.hashCode()).isEqualTo(second.hashCode());
    assertThat(first).isNotEqualTo(other);
  }

  @Test
  void negativeSize_rejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Descriptor.of("m", DIGEST, -1));

    assertThat(e).hasMessageThat().isEqualTo("size must not be negative, found -1");
  }

  @Test
  void toBuilder_replacesNamedMembersOnly() {
    Descriptor original =
        Descriptor.builder("m", DIGEST, 3)
            .annotations(Map.of("a", "1"))
            .platform(Platform.of("linux", "amd64"))
            .artifactType("application/x.a")
            .build();

    Descriptor changed = original.toBuilder().size(4).urls(List.of("u")).build();

    assertThat(changed.size()).isEqualTo(4);
    assertThat(changed.urls()).containsExactly("u");
    assertThat(changed.annotations()).isEqualTo(original.annotations());
    assertThat(changed.platform()).isEqualTo(original.platform());
    assertThat(changed.artifactType()).isEqualTo("application/x.a");
  }

  @Test
  void toString_summarisesData() {
    Descriptor descriptor = Descriptor.builder("m", DIGEST, 3).data(new byte[3]).build();

    assertThat(descriptor.toString())
        .isEqualTo("Descriptor{mediaType=m, digest=" + DIGEST + ", size=3, data=<3 bytes>}");
  }
}
