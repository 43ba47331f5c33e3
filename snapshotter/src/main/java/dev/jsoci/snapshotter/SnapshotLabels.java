package dev.jsoci.snapshotter;

/** Names of the snapshot labels that containerd and its clients send, and those we write. */
final class SnapshotLabels {
  /** The name under which an image-layer snapshot is to be committed: the layer's chain id. */
  static final String TARGET = "containerd.io/snapshot.ref";

  static final String CRI_IMAGE_REF = "containerd.io/snapshot/cri.image-ref";
  static final String CRI_MANIFEST_DIGEST = "containerd.io/snapshot/cri.manifest-digest";
  static final String CRI_LAYER_DIGEST = "containerd.io/snapshot/cri.layer-digest";
  static final String CRI_IMAGE_LAYERS = "containerd.io/snapshot/cri.image-layers";

  static final String SOCI_SIZE = "containerd.io/snapshot/remote/soci.size";
  static final String SOCI_INDEX_DIGEST = "containerd.io/snapshot/remote/soci.index.digest";
  static final String IMAGE_LAYERS_SIZE = "containerd.io/snapshot/remote/image.layers.size";

  /** Sent by stargz-snapshotter's {@code ctr-remote images rpull}. */
  static final String STARGZ_REFERENCE = "containerd.io/snapshot/remote/stargz.reference";

  static final String STARGZ_DIGEST = "containerd.io/snapshot/remote/stargz.digest";
  static final String STARGZ_LAYERS = "containerd.io/snapshot/remote/stargz.layers";

  /** Written on a snapshot whose directory is a remote mount, which must be restored at start. */
  static final String REMOTE = "containerd.io/snapshot/remote";

  static final String REMOTE_VALUE = "remote snapshot";

  /** The containerd namespace of the Prepare that made a remote snapshot. */
  static final String REMOTE_NAMESPACE = "containerd.io/snapshot/remote/namespace";

  static final String HAS_SOCI_INDEX_DIGEST = "containerd.io/snapshot/remote/has.soci.index.digest";

  private SnapshotLabels() {}
}
