/**
 * Finds the SOCI index of an image and fetches it with its zTOCs: SOCI index manifest v2 through
 * the image manifest's {@code com.amazon.soci.index-digest} annotation, and v1, when enabled,
 * through the OCI referrers API or its {@code sha256-<hex>} tag fallback.
 *
 * <p>{@link dev.jsoci.fetcher.discovery.SociIndexDiscovery} is the entry point. May use {@code
 * dev.jsoci.oci}, {@code dev.jsoci.ztoc}, {@code dev.jsoci.fetcher.registry}, Caffeine and SLF4J.
 */
@NullMarked
package dev.jsoci.fetcher.discovery;

import org.jspecify.annotations.NullMarked;
