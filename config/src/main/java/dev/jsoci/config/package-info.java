/**
 * Configuration files read into immutable records with defaults.
 *
 * <p>May use {@code dev.jsoci.oci} and Jackson. Only the {@code snapshotter} module reads this
 * package; it turns the records into each module's own options.
 */
@NullMarked
package dev.jsoci.config;

import org.jspecify.annotations.NullMarked;
