package dev.jsoci.oci;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The platform an image manifest runs on, as in an OCI image-spec v1.1 descriptor's {@code
 * platform}.
 *
 * <p>Values are kept as given. {@link #normalize()} and {@link #matches(Platform)} apply the
 * normalisation of containerd's platforms package (containerd v2.2).
 *
 * @param os for example {@code linux}
 * @param architecture for example {@code amd64} or {@code arm64}
 * @param variant the CPU variant, for example {@code v7}; empty when absent
 * @param osVersion the JSON member {@code os.version}; empty when absent
 * @param osFeatures the JSON member {@code os.features}; empty when absent
 */
public record Platform(
    String os, String architecture, String variant, String osVersion, List<String> osFeatures) {

  public Platform {
    Objects.requireNonNull(os, "os");
    Objects.requireNonNull(architecture, "architecture");
    Objects.requireNonNull(variant, "variant");
    Objects.requireNonNull(osVersion, "osVersion");
    osFeatures = List.copyOf(osFeatures);
  }

  public static Platform of(String os, String architecture) {
    return new Platform(os, architecture, "", "", List.of());
  }

  public static Platform of(String os, String architecture, String variant) {
    return new Platform(os, architecture, variant, "", List.of());
  }

  /**
   * Returns the canonical form containerd compares: the OS and architecture in lowercase, {@code
   * macos} as {@code darwin}, architecture aliases resolved with their implied variant, and the OS
   * features sorted without duplicates.
   *
   * <table>
   *   <caption>Architecture and variant rules</caption>
   *   <tr><th>architecture</th><th>variant</th><th>result</th></tr>
   *   <tr><td>i386</td><td>any</td><td>386, no variant</td></tr>
   *   <tr><td>x86_64, x86-64, amd64</td><td>v1</td><td>amd64, no variant</td></tr>
   *   <tr><td>aarch64, arm64</td><td>8, v8</td><td>arm64, no variant</td></tr>
   *   <tr><td>armhf</td><td>any</td><td>arm, v7</td></tr>
   *   <tr><td>armel</td><td>any</td><td>arm, v6</td></tr>
   *   <tr><td>arm</td><td>none, 7</td><td>arm, v7</td></tr>
   *   <tr><td>arm</td><td>5, 6, 8</td><td>arm, v5, v6, v8</td></tr>
   * </table>
   *
   * <p>Other variants are kept (lowercased).
   *
   * <p>NOTE: containerd replaces an empty OS with the OS of the host (Go's {@code runtime.GOOS});
   * this method keeps it empty, so an empty OS matches only an empty OS.
   */
  public Platform normalize() {
    String normalizedOs = os.toLowerCase(Locale.ROOT);
    if (normalizedOs.equals("macos")) {
      normalizedOs = "darwin";
    }

    String arch = architecture.toLowerCase(Locale.ROOT);
    String normalizedVariant = variant.toLowerCase(Locale.ROOT);
    switch (arch) {
      case "i386":
        arch = "386";
        normalizedVariant = "";
        break;
      case "x86_64":
      case "x86-64":
      case "amd64":
        arch = "amd64";
        if (normalizedVariant.equals("v1")) {
          normalizedVariant = "";
        }
        break;
      case "aarch64":
      case "arm64":
        arch = "arm64";
        if (normalizedVariant.equals("8") || normalizedVariant.equals("v8")) {
          normalizedVariant = "";
        }
        break;
      case "armhf":
        arch = "arm";
        normalizedVariant = "v7";
        break;
      case "armel":
        arch = "arm";
        normalizedVariant = "v6";
        break;
      case "arm":
        normalizedVariant = normalizeArmVariant(normalizedVariant);
        break;
      default:
        break;
    }

    List<String> features = new ArrayList<>(osFeatures);
    features.sort(Utf8Order.COMPARATOR);
    List<String> uniqueFeatures = new ArrayList<>();
    for (String feature : features) {
      boolean repeated =
          !uniqueFeatures.isEmpty()
              && uniqueFeatures.get(uniqueFeatures.size() - 1).equals(feature);
      if (!repeated) {
        uniqueFeatures.add(feature);
      }
    }

    return new Platform(normalizedOs, arch, normalizedVariant, osVersion, uniqueFeatures);
  }

  /**
   * Returns whether {@code candidate}, typically a manifest's platform in an image index, is this
   * platform, with containerd's strict matcher ({@code platforms.OnlyStrict}).
   *
   * <p>Both sides are normalized. OS, architecture and variant must be equal, so {@code arm/v7}
   * does not match {@code arm/v6} and {@code amd64} does not match {@code 386}. Every OS feature of
   * the candidate must be among this platform's OS features.
   *
   * <p>NOTE: containerd also compares {@code os.version} when this platform's OS is {@code
   * windows}, with Windows build compatibility rules. This method ignores {@code os.version}.
   */
  public boolean matches(Platform candidate) {
    Platform wanted = normalize();
    Platform other = candidate.normalize();
    return wanted.os.equals(other.os)
        && wanted.architecture.equals(other.architecture)
        && wanted.variant.equals(other.variant)
        && wanted.osFeatures.containsAll(other.osFeatures);
  }

  /** Returns {@code os/architecture[/variant]}, for messages. */
  @Override
  public String toString() {
    StringBuilder text = new StringBuilder(os).append('/').append(architecture);
    if (!variant.isEmpty()) {
      text.append('/').append(variant);
    }
    return text.toString();
  }

  private static String normalizeArmVariant(String variant) {
    switch (variant) {
      case "":
      case "7":
        return "v7";
      case "5":
      case "6":
      case "8":
        return "v" + variant;
      default:
        return variant;
    }
  }
}
