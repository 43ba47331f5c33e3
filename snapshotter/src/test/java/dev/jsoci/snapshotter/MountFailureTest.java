package dev.jsoci.snapshotter;

import static com.google.common.truth.Truth.assertThat;

import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MountFailureTest {
  @Test
  void mountFailureOf_namesTheReason() {
    NoSociIndexException none = new NoSociIndexException("no SOCI index found for app:1");
    NoSociIndexException unreadable =
        new NoSociIndexException(
            "cannot read the SOCI index or the zTOC of layer x of app:1, so the layer is pulled"
                + " whole: blob not found",
            new IOException("blob not found"));
    IOException noZtoc =
        new FuseLayerMounter.NoZtocException(
            Digest.sha256Of("layer".getBytes(StandardCharsets.UTF_8)),
            ImageRef.parse("127.0.0.1:5000/app:1"));

    assertThat(Snapshotter.mountFailureOf(none))
        .isEqualTo(SnapshotterListener.MountFailure.NO_INDEX);
    assertThat(Snapshotter.mountFailureOf(unreadable))
        .isEqualTo(SnapshotterListener.MountFailure.ERROR);
    assertThat(Snapshotter.mountFailureOf(noZtoc))
        .isEqualTo(SnapshotterListener.MountFailure.NO_ZTOC);
    assertThat(Snapshotter.mountFailureOf(new IOException("fusermount failed")))
        .isEqualTo(SnapshotterListener.MountFailure.ERROR);
  }
}
