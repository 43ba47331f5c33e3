package dev.jsoci.convert;

import static com.google.common.truth.Truth.assertThat;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageManifest;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.Platform;
import dev.jsoci.oci.SociAnnotations;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ImageRewriteTest {
  private static final Platform AMD64 = Platform.of("linux", "amd64");
  private static final Platform ARM64 = Platform.of("linux", "arm64");

  private static Digest digest(String text) {
    return Digest.sha256Of(text.getBytes());
  }

  private static Descriptor image(String name, Platform platform) {
    return Descriptor.builder(MediaType.OCI_MANIFEST, digest(name), 100).platform(platform).build();
  }

  private static Descriptor soci(String name, Platform platform) {
    return ImageRewrite.sociIndexEntry(
        Descriptor.of(MediaType.OCI_MANIFEST, digest(name), 50), digest("image " + name), platform);
  }

  @Test
  void rewriteManifest_dockerManifest_becomesOciWithLink() {
    Descriptor config = Descriptor.of(MediaType.DOCKER_CONFIG, digest("config"), 10);
    Descriptor layer = Descriptor.of(MediaType.DOCKER_LAYER_TAR_GZIP, digest("layer"), 20);
    ImageManifest docker =
        new ImageManifest(
            MediaType.DOCKER_MANIFEST, "", config, List.of(layer), null, Map.of("a", "b"));

    ImageManifest rewritten = ImageRewrite.rewriteManifest(docker, List.of(layer), digest("index"));

    assertThat(rewritten.toJson())
        .isEqualTo(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                + "\"digest\":\""
                + config.digest()
                + "\",\"size\":10},"
                + "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\","
                + "\"digest\":\""
                + layer.digest()
                + "\",\"size\":20}],"
                + "\"annotations\":{\"a\":\"b\",\"com.amazon.soci.index-digest\":\""
                + digest("index")
                + "\"}}");
  }

  @Test
  void rewriteEntry_replacesAnnotationsAndDropsData() {
    Descriptor entry =
        image("old", AMD64).toBuilder()
            .annotations(Map.of("only.on.entry", "x"))
            .data(new byte[] {1})
            .build();
    Descriptor manifest = Descriptor.of(MediaType.OCI_MANIFEST, digest("new"), 123);

    Descriptor rewritten =
        ImageRewrite.rewriteEntry(entry, manifest, Map.of(SociAnnotations.INDEX_DIGEST, "d"));

    assertThat(rewritten)
        .isEqualTo(
            Descriptor.builder(MediaType.OCI_MANIFEST, digest("new"), 123)
                .platform(AMD64)
                .annotations(Map.of(SociAnnotations.INDEX_DIGEST, "d"))
                .build());
  }

  @Test
  void sociIndexEntry_membersInGoOrder() {
    Descriptor entry = soci("x", AMD64);

    assertThat(entry.artifactType()).isEqualTo(MediaType.SOCI_INDEX_V2);
    assertThat(
            ImageRewrite.rewriteIndex(
                    new dev.jsoci.oci.ImageIndex(
                        MediaType.OCI_INDEX, "", List.of(), null, Map.of()),
                    List.of(entry))
                .toJson())
        .isEqualTo(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                + "\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"digest\":\""
                + digest("x")
                + "\",\"size\":50,\"annotations\":"
                + "{\"com.amazon.soci.image-manifest-digest\":\""
                + digest("image x")
                + "\"},"
                + "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"},"
                + "\"artifactType\":\"application/vnd.amazon.soci.index.v2+json\"}]}");
  }

  @Test
  void placeSociIndexEntries_appendsAfterImages() {
    List<Descriptor> entries = List.of(image("a", AMD64), image("b", ARM64));

    List<Descriptor> placed =
        ImageRewrite.placeSociIndexEntries(entries, List.of(soci("s", AMD64)));

    assertThat(placed).containsExactly(entries.get(0), entries.get(1), soci("s", AMD64)).inOrder();
  }

  @Test
  void placeSociIndexEntries_samePlatform_replaces() {
    List<Descriptor> entries =
        List.of(
            image("a", AMD64), soci("old-amd64", AMD64), image("b", ARM64), soci("old-arm", ARM64));

    List<Descriptor> placed =
        ImageRewrite.placeSociIndexEntries(
            entries, List.of(soci("new", Platform.of("Linux", "x86_64"))));

    assertThat(placed)
        .containsExactly(
            entries.get(0),
            soci("new", Platform.of("Linux", "x86_64")),
            entries.get(2),
            entries.get(3))
        .inOrder();
  }

  @Test
  void placeSociIndexEntries_variantMustMatch() {
    List<Descriptor> entries =
        List.of(
            image("a", Platform.of("linux", "arm", "v7")),
            soci("old", Platform.of("linux", "arm", "v6")));

    List<Descriptor> placed =
        ImageRewrite.placeSociIndexEntries(
            entries, List.of(soci("new", Platform.of("linux", "arm", "v7"))));

    assertThat(placed).hasSize(3);
  }

  @Test
  void isSociIndexEntry_withoutArtifactType() {
    Descriptor copied = soci("x", AMD64).toBuilder().artifactType("").build();

    assertThat(ImageRewrite.isSociIndexEntry(copied)).isTrue();
    assertThat(ImageRewrite.isSociIndexEntry(image("a", AMD64))).isFalse();
  }
}
