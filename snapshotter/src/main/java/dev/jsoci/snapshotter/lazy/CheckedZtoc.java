package dev.jsoci.snapshotter.lazy;

import dev.jsoci.fs.LayerTree;
import dev.jsoci.ztoc.Ztoc;

/**
 * A zTOC that passed the checks a mount needs, with the layer's file tree built from it. Building
 * the tree when the zTOC is read, often by a background prefetch, keeps that work out of the
 * layer's {@code Prepare}.
 */
record CheckedZtoc(Ztoc ztoc, LayerTree tree) {}
