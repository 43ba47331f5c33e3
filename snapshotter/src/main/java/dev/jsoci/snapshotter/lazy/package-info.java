/**
 * Layers read lazily from a registry and served through FUSE: the zTOC of a layer found through
 * its image's SOCI index, a span manager over the layer blob, and the layer's FUSE mount. Used by
 * the daemon's remote snapshots and by {@code jsoci mount}.
 */
@NullMarked
package dev.jsoci.snapshotter.lazy;

import org.jspecify.annotations.NullMarked;
