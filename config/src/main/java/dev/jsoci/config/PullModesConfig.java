package dev.jsoci.config;

/**
 * The SOCI index versions that the daemon looks for ({@code [pull_modes.soci_v1]} and {@code
 * [pull_modes.soci_v2]}).
 *
 * @param sociV1Enabled look for SOCI v1 indexes through the referrers API
 * @param sociV2Enabled look for SOCI v2 indexes through the image index annotation
 */
public record PullModesConfig(boolean sociV1Enabled, boolean sociV2Enabled) {
  public static final PullModesConfig DEFAULTS = new PullModesConfig(false, true);
}
