package dev.jsoci.snapshotter.lazy;

import dev.jsoci.fs.LayerTree;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.ztoc.Ztoc;

/**
 * A layer that can be read lazily: its descriptor from the image manifest, its zTOC and the file
 * tree built from the zTOC.
 *
 * @param repository the repository the layer blob is read from
 */
public record LazyLayer(ImageRef repository, Descriptor layer, Ztoc ztoc, LayerTree tree) {}
