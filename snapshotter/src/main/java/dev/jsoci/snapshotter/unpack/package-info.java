/**
 * Unpacks layer tars into directories that overlayfs can use as lower layers: entries never land
 * outside the layer's directory, and OCI whiteouts become overlayfs whiteouts. Used by {@code jsoci
 * mount} for layers without a zTOC.
 *
 * <p>May use the {@code ztoc} and {@code oci} modules and SLF4J.
 */
@NullMarked
package dev.jsoci.snapshotter.unpack;

import org.jspecify.annotations.NullMarked;
