/**
 * The daemon's log output: one JSON object per line on stdout, through logback.
 *
 * <p>May use logback and SLF4J.
 */
@NullMarked
package dev.jsoci.snapshotter.logging;

import org.jspecify.annotations.NullMarked;
