/**
 * The daemon's Prometheus metrics: the listeners that the file system, span engine, registry client
 * and snapshotter report to, and the HTTP endpoint that serves them.
 */
@NullMarked
package dev.jsoci.snapshotter.metrics;

import org.jspecify.annotations.NullMarked;
