/**
 * Flatbuffer access for the zTOC codec. Nothing in this package appears in a public signature of
 * the {@code ztoc} module.
 */
@NullUnmarked
package dev.jsoci.ztoc.internal.fbs;

import org.jspecify.annotations.NullUnmarked;
