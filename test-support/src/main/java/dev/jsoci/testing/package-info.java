/**
 * Test fakes and fixtures shared by several modules.
 *
 * <p>May use {@code dev.jsoci.oci} and {@code dev.jsoci.ztoc}; used in test scope only.
 */
@NullMarked
package dev.jsoci.testing;

import org.jspecify.annotations.NullMarked;
