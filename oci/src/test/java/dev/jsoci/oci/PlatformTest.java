package dev.jsoci.oci;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import java.util.List;
import org.junit.jupiter.api.Test;

class PlatformTest {

  private static void assertNormalizes(String arch, String variant, String expected) {
    Platform normalized = Platform.of("linux", arch, variant).normalize();

    assertWithMessage(arch + "/" + variant).that(normalized.toString()).isEqualTo(expected);
  }

  @Test
  void normalize_architectureAliases() {
    assertNormalizes("x86_64", "", "linux/amd64");
    assertNormalizes("x86-64", "", "linux/amd64");
    assertNormalizes("AMD64", "", "linux/amd64");
    assertNormalizes("amd64", "v1", "linux/amd64");
    assertNormalizes("amd64", "v3", "linux/amd64/v3");
    assertNormalizes("i386", "v9", "linux/386");
    assertNormalizes("aarch64", "", "linux/arm64");
    assertNormalizes("arm64", "v8", "linux/arm64");
    assertNormalizes("arm64", "8", "linux/arm64");
    assertNormalizes("aarch64", "V8", "linux/arm64");
    assertNormalizes("arm64", "v9", "linux/arm64/v9");
    assertNormalizes("arm64", "v8.2", "linux/arm64/v8.2");
    assertNormalizes("armhf", "", "linux/arm/v7");
    assertNormalizes("armhf", "v5", "linux/arm/v7");
    assertNormalizes("armel", "", "linux/arm/v6");
    assertNormalizes("arm", "", "linux/arm/v7");
    assertNormalizes("arm", "7", "linux/arm/v7");
    assertNormalizes("arm", "5", "linux/arm/v5");
    assertNormalizes("arm", "6", "linux/arm/v6");
    assertNormalizes("arm", "8", "linux/arm/v8");
    assertNormalizes("arm", "v6", "linux/arm/v6");
    assertNormalizes("ppc64le", "", "linux/ppc64le");
    assertNormalizes("s390x", "X", "linux/s390x/x");
  }

  @Test
  void normalize_osLowercasedAndMacosIsDarwin() {
    assertThat(Platform.of("Linux", "amd64").normalize().os()).isEqualTo("linux");
    assertThat(Platform.of("macOS", "arm64").normalize().os()).isEqualTo("darwin");
    assertThat(Platform.of("", "amd64").normalize().os()).isEqualTo("");
  }

  @Test
  void normalize_osFeaturesSortedWithoutDuplicates() {
    Platform platform =
        new Platform("windows", "amd64", "", "10.0.17763.1", List.of("win32k", "b", "win32k"));

    Platform normalized = platform.normalize();

    assertThat(normalized.osFeatures()).containsExactly("b", "win32k").inOrder();
    assertThat(normalized.osVersion()).isEqualTo("10.0.17763.1");
  }

  @Test
  void matches_normalizedFormsMatch() {
    assertThat(Platform.of("linux", "amd64").matches(Platform.of("linux", "x86_64"))).isTrue();
    assertThat(Platform.of("linux", "arm64").matches(Platform.of("linux", "arm64", "v8"))).isTrue();
    assertThat(Platform.of("linux", "arm64", "v8").matches(Platform.of("linux", "aarch64")))
        .isTrue();
    assertThat(Platform.of("linux", "arm").matches(Platform.of("linux", "arm", "v7"))).isTrue();
    assertThat(Platform.of("linux", "armhf").matches(Platform.of("Linux", "arm", "7"))).isTrue();
  }

  /** The strict matcher does not fall back to compatible older variants or architectures. */
  @Test
  void matches_strictNoFallback() {
    assertThat(Platform.of("linux", "arm", "v7").matches(Platform.of("linux", "arm", "v6")))
        .isFalse();
    assertThat(Platform.of("linux", "amd64").matches(Platform.of("linux", "386"))).isFalse();
    assertThat(Platform.of("linux", "arm64").matches(Platform.of("linux", "arm", "v8"))).isFalse();
    assertThat(Platform.of("linux", "arm64", "v8.2").matches(Platform.of("linux", "arm64")))
        .isFalse();
    assertThat(Platform.of("linux", "amd64").matches(Platform.of("windows", "amd64"))).isFalse();
  }

  @Test
  void matches_candidateOsFeaturesMustBeSubset() {
    Platform wanted = new Platform("windows", "amd64", "", "", List.of("win32k", "b"));

    assertThat(wanted.matches(Platform.of("windows", "amd64"))).isTrue();
    assertThat(wanted.matches(new Platform("windows", "amd64", "", "", List.of("win32k"))))
        .isTrue();
    assertThat(wanted.matches(new Platform("windows", "amd64", "", "", List.of("c")))).isFalse();
    assertThat(
            Platform.of("windows", "amd64")
                .matches(new Platform("windows", "amd64", "", "", List.of("win32k"))))
        .isFalse();
  }

  @Test
  void matches_ignoresOsVersion() {
    Platform wanted = new Platform("linux", "amd64", "", "1.0", List.of());

    assertThat(wanted.matches(new Platform("linux", "amd64", "", "2.0", List.of()))).isTrue();
  }

  @Test
  void normalize_keepsOriginalUnchanged() {
    Platform original = Platform.of("Linux", "x86_64");

    original.normalize();

    assertThat(original.architecture()).isEqualTo("x86_64");
  }
}
