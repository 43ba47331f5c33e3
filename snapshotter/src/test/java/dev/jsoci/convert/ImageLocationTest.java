package dev.jsoci.convert;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.oci.ImageRef;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ImageLocationTest {
  private static final String DIGEST =
      "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

  @Test
  void parse_registryReference() {
    ImageLocation location = ImageLocation.parse("127.0.0.1:5000/app:v1");

    assertThat(location.isLayout()).isFalse();
    assertThat(location.registryReference()).isEqualTo(ImageRef.parse("127.0.0.1:5000/app:v1"));
  }

  @Test
  void parse_layoutWithTag() {
    ImageLocation location = ImageLocation.parse("oci:/tmp/images/app:v1.2");

    assertThat(location.layoutDirectory()).isEqualTo(Path.of("/tmp/images/app"));
    assertThat(location.layoutTag()).isEqualTo("v1.2");
  }

  @Test
  void parse_layoutWithoutTag() {
    ImageLocation location = ImageLocation.parse("oci:relative/dir");

    assertThat(location.layoutDirectory()).isEqualTo(Path.of("relative/dir"));
    assertThat(location.layoutTag()).isNull();
  }

  @Test
  void parse_layoutWithDigest() {
    ImageLocation location = ImageLocation.parse("oci:/tmp/app:" + DIGEST);

    assertThat(location.layoutDirectory()).isEqualTo(Path.of("/tmp/app"));
    assertThat(location.layoutTag()).isEqualTo(DIGEST);
  }

  @Test
  void parse_emptyLayout_isRejected() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ImageLocation.parse("oci:"));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("invalid OCI layout location \"oci:\", expected oci:DIR[:TAG]");
  }

  @Test
  void destinationTag_layoutWithoutTag_isLatest() throws ConvertException {
    assertThat(ImageLocation.parse("oci:/tmp/app").destinationTag()).isEqualTo("latest");
  }

  @Test
  void destinationTag_registryDigestOnly_isRejected() {
    ImageLocation location = ImageLocation.parse("127.0.0.1:5000/app@" + DIGEST);

    ConvertException e = assertThrows(ConvertException.class, location::destinationTag);

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("destination 127.0.0.1:5000/app@" + DIGEST + " needs a tag, not only a digest");
  }
}
