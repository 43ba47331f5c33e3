/**
 * Builds the table of contents of a layer from its uncompressed tar stream, with the semantics of
 * Go's {@code archive/tar} reader that the reference SOCI builder uses, so that our zTOCs can match
 * the reference's byte for byte.
 *
 * <p>Depends only on the value types of {@code dev.jsoci.ztoc} and the JDK.
 */
@NullMarked
package dev.jsoci.ztoc.tar;

import org.jspecify.annotations.NullMarked;
