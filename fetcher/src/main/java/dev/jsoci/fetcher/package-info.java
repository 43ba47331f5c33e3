/**
 * Registry access and the span engine.
 *
 * <p>May use {@code dev.jsoci.oci}, {@code dev.jsoci.ztoc}, okhttp, Jackson and Caffeine. Never
 * sees {@code dev.jsoci.fs}.
 */
@NullMarked
package dev.jsoci.fetcher;

import org.jspecify.annotations.NullMarked;
