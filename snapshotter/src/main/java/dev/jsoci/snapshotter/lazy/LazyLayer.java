package dev.jsoci.snapshotter.lazy;

import dev.jsoci.fs.InvalidLayerException;
import dev.jsoci.fs.LayerTree;
import dev.jsoci.fs.LowerLayers;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.ztoc.TocIndex;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocFormatException;
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
    boolean xattrsDisabled) {

  /**
   * Returns the layer's tree as mounted over {@code lowers}: the built tree when the layer creates
   * every parent directory itself, else a tree built again whose implicit parents follow the lower
   * layers' directories and symbolic links.
   *
   * @throws InvalidLayerException if the entries do not form a valid tree over those layers
   * @throws ZtocFormatException if the zTOC's entries overlap
   */
  public LayerTree treeOver(LowerLayers lowers) throws InvalidLayerException, ZtocFormatException {
    if (!tree.dependsOnLowerLayers() || lowers == LowerLayers.NONE) {
      return tree;
    }
    return LayerTree.of(TocIndex.of(ztoc, tree.layer()), tree.layer(), lowers);
  }
}
