package dev.jsoci.oci;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ImageRefTest {
  private static final String DIGEST = "sha256:" + "7c".repeat(32);

  @Test
  void parse_validReferences_normalised() {
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("busybox", "docker.io/library/busybox:latest");
    cases.put("busybox:1.36", "docker.io/library/busybox:1.36");
    cases.put("library/busybox", "docker.io/library/busybox:latest");
    cases.put("docker.io/busybox", "docker.io/library/busybox:latest");
    cases.put("index.docker.io/busybox", "docker.io/library/busybox:latest");
    cases.put("index.docker.io/library/busybox:1", "docker.io/library/busybox:1");
    cases.put("user/app", "docker.io/user/app:latest");
    cases.put("user/team/app:v2", "docker.io/user/team/app:v2");
    cases.put("localhost/app", "localhost/app:latest");
    cases.put("localhost:5000/app:v1", "localhost:5000/app:v1");
    cases.put("127.0.0.1:5000/a/b/c:tag", "127.0.0.1:5000/a/b/c:tag");
    cases.put("[::1]:5000/app", "[::1]:5000/app:latest");
    cases.put("registry.example.com/team/app@" + DIGEST, "registry.example.com/team/app@" + DIGEST);
    cases.put(
        "registry.example.com/team/app:v1@" + DIGEST, "registry.example.com/team/app:v1@" + DIGEST);
    cases.put("busybox@" + DIGEST, "docker.io/library/busybox@" + DIGEST);
    cases.put("Example.com/app", "Example.com/app:latest");
    cases.put("Registry/app", "Registry/app:latest");
    cases.put(
        "my-registry.io:443/a.b/c_d/e__f/g--h:Tag_1.0-rc",
        "my-registry.io:443/a.b/c_d/e__f/g--h:Tag_1.0-rc");
    cases.put("localhost:5000", "docker.io/library/localhost:5000");
    cases.put("a:" + "t".repeat(128), "docker.io/library/a:" + "t".repeat(128));
    cases.put("localhost/" + "a".repeat(245), "localhost/" + "a".repeat(245) + ":latest");

    for (Map.Entry<String, String> entry : cases.entrySet()) {
      assertWithMessage(entry.getKey())
          .that(ImageRef.parse(entry.getKey()).toString())
          .isEqualTo(entry.getValue());
    }
  }

  @Test
  void parse_components() {
    ImageRef ref = ImageRef.parse("localhost:5000/team/app:v1@" + DIGEST);

    assertThat(ref.registryHost()).isEqualTo("localhost:5000");
    assertThat(ref.repository()).isEqualTo("team/app");
    assertThat(ref.tag()).isEqualTo("v1");
    assertThat(ref.digest()).isEqualTo(Digest.parse(DIGEST));
    assertThat(ref.name()).isEqualTo("localhost:5000/team/app");
    assertThat(ref.manifestReference()).isEqualTo(DIGEST);
  }

  @Test
  void parse_dockerHubShortName() {
    ImageRef ref = ImageRef.parse("busybox");

    assertThat(ref.registryHost()).isEqualTo("docker.io");
    assertThat(ref.repository()).isEqualTo("library/busybox");
    assertThat(ref.tag()).isEqualTo("latest");
    assertThat(ref.digest()).isNull();
    assertThat(ref.manifestReference()).isEqualTo("latest");
  }

  @Test
  void parse_digestOnly_hasNoTag() {
    ImageRef ref = ImageRef.parse("busybox@" + DIGEST);

    assertThat(ref.tag()).isNull();
    assertThat(ref.manifestReference()).isEqualTo(DIGEST);
  }

  @Test
  void parse_invalidReferences_messagesNameReference() {
    String imageId = "a".repeat(64);
    String longRepository = "a".repeat(246);
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("", "reference is empty");
    cases.put(imageId, "a 64-character hex string is an image ID, not a repository name");
    cases.put("Busybox", "repository name must be lowercase");
    cases.put("docker.io/Library/busybox", "repository name must be lowercase");
    cases.put("localhost:5000/App:v1", "repository name must be lowercase");
    cases.put(
        "busybox:",
        "invalid tag \"\": expected 1 to 128 letters, digits, '_', '.' or '-', not starting"
            + " with '.' or '-'");
    cases.put(
        "busybox:-x",
        "invalid tag \"-x\": expected 1 to 128 letters, digits, '_', '.' or '-', not starting"
            + " with '.' or '-'");
    cases.put(
        "busybox:" + "t".repeat(129),
        "invalid tag \""
            + "t".repeat(129)
            + "\": expected 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or"
            + " '-'");
    cases.put(
        "busybox:a:b",
        "invalid tag \"a:b\": expected 1 to 128 letters, digits, '_', '.' or '-', not starting"
            + " with '.' or '-'");
    cases.put(
        "busybox@sha256:abc",
        "invalid digest \"sha256:abc\": expected <algorithm>:<at least 32 hex digits>");
    cases.put("busybox@", "invalid digest \"\": expected <algorithm>:<at least 32 hex digits>");
    cases.put(
        "busybox@" + DIGEST.toUpperCase(java.util.Locale.ROOT).replace("SHA", "sha"),
        "invalid digest \""
            + DIGEST.toUpperCase(java.util.Locale.ROOT).replace("SHA", "sha")
            + "\": expected lowercase hex digits, found 'C' at index 1 of the hex");
    cases.put(
        "busybox@md5:" + "0".repeat(32),
        "invalid digest \"md5:"
            + "0".repeat(32)
            + "\": unsupported algorithm \"md5\", expected sha256 or sha512");
    cases.put("example.com:port/app", "invalid registry host \"example.com:port\"");
    cases.put("-bad.example.com/app", "invalid registry host \"-bad.example.com\"");
    cases.put("a_b.example.com/app", "invalid registry host \"a_b.example.com\"");
    cases.put(
        "user//app",
        "invalid repository name \"user//app\": expected lowercase letters and digits separated"
            + " by '/', '.', '_', '__' or '-'");
    cases.put(
        "user/app/",
        "invalid repository name \"user/app/\": expected lowercase letters and digits separated"
            + " by '/', '.', '_', '__' or '-'");
    cases.put(
        "user/.app",
        "invalid repository name \"user/.app\": expected lowercase letters and digits separated"
            + " by '/', '.', '_', '__' or '-'");
    cases.put(
        "user/a___b",
        "invalid repository name \"user/a___b\": expected lowercase letters and digits separated"
            + " by '/', '.', '_', '__' or '-'");
    cases.put(
        "localhost/" + longRepository,
        "name \"localhost/" + longRepository + "\" is 256 characters long, the maximum is 255");

    for (Map.Entry<String, String> entry : cases.entrySet()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> ImageRef.parse(entry.getKey()), entry.getKey());
      assertWithMessage(entry.getKey())
          .that(e)
          .hasMessageThat()
          .isEqualTo("invalid image reference \"" + entry.getKey() + "\": " + entry.getValue());
    }
  }

  @Test
  void constructor_validatesComponents() {
    IllegalArgumentException badHost =
        assertThrows(
            IllegalArgumentException.class, () -> new ImageRef("bad host", "app", "latest", null));
    IllegalArgumentException noTagOrDigest =
        assertThrows(
            IllegalArgumentException.class, () -> new ImageRef("docker.io", "app", null, null));

    assertThat(badHost).hasMessageThat().isEqualTo("invalid registry host \"bad host\"");
    assertThat(noTagOrDigest)
        .hasMessageThat()
        .isEqualTo("an image reference needs a tag or a digest");
  }
}
