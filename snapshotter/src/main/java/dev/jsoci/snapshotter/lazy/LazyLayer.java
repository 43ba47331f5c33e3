package dev.jsoci.snapshotter.lazy;

import dev.jsoci.fs.LayerTree;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.ztoc.Ztoc;
import org.jspecify.annotations.Nullable;

/**
 * A layer that can be read lazily: its descriptor from the image manifest, its zTOC and the file
 * tree built from the zTOC.
 *
 * @param repository the repository the layer blob is read from
 * @param prefetch the descriptor of the layer's prefetch artifact in the SOCI index, or null when
 *     it has none or prefetching is off
 * @param xattrsDisabled whether the zTOC's descriptor marks the layer as free of extended
 *     attributes ({@code com.amazon.soci.disable-xattrs})
 */
public record LazyLayer(
    ImageRef repository,
    Descriptor layer,
    Ztoc ztoc,
    LayerTree tree,
    @Nullable Descriptor prefetch,
    boolean xattrsDisabled) {}
