package dev.jsoci.convert;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.MediaType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OciLayoutStoreTest {
  @TempDir Path temp;

  private static Descriptor descriptorOf(String mediaType, byte[] content) {
    return Descriptor.of(mediaType, Digest.sha256Of(content), content.length);
  }

  @Test
  void openOrCreate_writesLayoutFiles() throws IOException {
    OciLayoutStore.openOrCreate(temp.resolve("new"));

    assertThat(Files.readString(temp.resolve("new/oci-layout")))
        .isEqualTo("{\"imageLayoutVersion\":\"1.0.0\"}");
    assertThat(Files.readString(temp.resolve("new/index.json")))
        .isEqualTo(
            "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                + "\"manifests\":[]}");
  }

  @Test
  void openOrCreate_filesFollowTheUmask() throws IOException {
    Path reference = Files.createFile(temp.resolve("reference"));
    OciLayoutStore store = OciLayoutStore.openOrCreate(temp.resolve("layout"));
    byte[] content = "blob".getBytes();
    Descriptor blob = descriptorOf("x", content);
    try (BlobWriter writer = store.newBlobWriter(blob)) {
      writer.write(content);
      writer.commit(blob.digest());
    }

    Set<PosixFilePermission> expected = Files.getPosixFilePermissions(reference);
    for (String file :
        List.of("oci-layout", "index.json", "blobs/sha256/" + blob.digest().encoded())) {
      assertWithMessage(file)
          .that(Files.getPosixFilePermissions(temp.resolve("layout").resolve(file)))
          .isEqualTo(expected);
    }
  }

  @Test
  void openOrCreate_fileInTheWay_namesIt() throws IOException {
    Path file = Files.writeString(temp.resolve("afile"), "hi");

    IOException e = assertThrows(IOException.class, () -> OciLayoutStore.openOrCreate(file));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(
            "cannot create the OCI image layout "
                + file
                + ": "
                + file
                + " exists and is not a directory; give a directory that you can write, or a"
                + " path where one can be created");
  }

  @Test
  void entries_emptyIndexFile_namesTheFile() throws IOException {
    OciLayoutStore store = OciLayoutStore.openOrCreate(temp.resolve("layout"));
    Files.write(temp.resolve("layout/index.json"), new byte[0]);

    IOException e = assertThrows(IOException.class, store::entries);

    assertThat(e)
        .hasMessageThat()
        .isEqualTo(temp.resolve("layout/index.json") + ": invalid JSON: empty document");
  }

  @Test
  void openOrCreate_brokenIndex_failsEarly() throws IOException {
    OciLayoutStore.openOrCreate(temp.resolve("empty"));
    Files.write(temp.resolve("empty/index.json"), new byte[0]);
    OciLayoutStore.openOrCreate(temp.resolve("directory"));
    Files.delete(temp.resolve("directory/index.json"));
    Files.createDirectory(temp.resolve("directory/index.json"));

    IOException empty =
        assertThrows(IOException.class, () -> OciLayoutStore.openOrCreate(temp.resolve("empty")));
    IOException directory =
        assertThrows(
            IOException.class, () -> OciLayoutStore.openOrCreate(temp.resolve("directory")));

    assertThat(empty)
        .hasMessageThat()
        .isEqualTo(temp.resolve("empty/index.json") + ": invalid JSON: empty document");
    assertThat(directory)
        .hasMessageThat()
        .startsWith("cannot read " + temp.resolve("directory/index.json") + ": ");
    assertThat(directory).hasMessageThat().contains("Is a directory");
  }

  @Test
  void deletePartialFiles_removesBlobsBeingWritten() throws IOException {
    OciLayoutStore store = OciLayoutStore.openOrCreate(temp.resolve("layout"));
    Path blobs = temp.resolve("layout/blobs/sha256");
    try (BlobWriter writer = store.newBlobWriter(null)) {
      writer.write("half a blob".getBytes());
      try (var files = Files.list(blobs)) {
        assertThat(files.toList()).hasSize(1);
      }

      OciLayoutStore.deletePartialFiles();

      try (var files = Files.list(blobs)) {
        assertThat(files.toList()).isEmpty();
      }
    }
  }

  @Test
  void open_directoryWithoutLayout_fails() {
    ImageNotFoundException e =
        assertThrows(ImageNotFoundException.class, () -> OciLayoutStore.open(temp));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("oci:" + temp + ": not an OCI image layout, oci-layout is missing");
  }

  @Test
  void blobWriter_wrongDigest_publishesNothing() throws IOException {
    OciLayoutStore store = OciLayoutStore.openOrCreate(temp.resolve("layout"));
    Descriptor expected = descriptorOf("x", "right".getBytes());

    try (BlobWriter writer = store.newBlobWriter(expected)) {
      writer.write("wrong".getBytes());
      BlobDigestMismatchException e =
          assertThrows(BlobDigestMismatchException.class, () -> writer.commit(expected.digest()));
      assertThat(e).hasMessageThat().contains("digest mismatch, expected " + expected.digest());
    }

    assertThat(store.hasBlob(expected.digest())).isFalse();
    assertThat(store.hasBlob(Digest.sha256Of("wrong".getBytes()))).isFalse();
    try (var files = Files.list(temp.resolve("layout/blobs/sha256"))) {
      assertThat(files.toList()).isEmpty();
    }
  }

  @Test
  void blobWriter_skipDigestCheck_publishes() throws IOException {
    OciLayoutStore store = OciLayoutStore.openOrCreate(temp.resolve("layout"));
    Descriptor blob = descriptorOf("x", "content".getBytes());

    try (BlobWriter writer = store.newBlobWriter(blob)) {
      writer.skipDigestCheck();
      writer.write("content".getBytes());
      assertThat(writer.commit(blob.digest())).isTrue();
    }

    try (InputStream in = store.openBlob(blob)) {
      assertThat(in.readAllBytes()).isEqualTo("content".getBytes());
    }
  }

  @Test
  void blobWriter_skipDigestCheckAfterWrite_throws() throws IOException {
    OciLayoutStore store = OciLayoutStore.openOrCreate(temp.resolve("layout"));

    try (BlobWriter writer = store.newBlobWriter(null)) {
      writer.write("content".getBytes());
      IllegalStateException e = assertThrows(IllegalStateException.class, writer::skipDigestCheck);
      assertThat(e).hasMessageThat().isEqualTo("skipDigestCheck after 7 bytes were written");
    }
  }

  @Test
  void openBlob_corruptFile_failsAtEnd() throws IOException {
    OciLayoutStore store = OciLayoutStore.openOrCreate(temp.resolve("layout"));
    Descriptor blob = descriptorOf("x", "content".getBytes());
    store.writeBlob(blob, "content".getBytes());
    Files.writeString(
        temp.resolve("layout/blobs/sha256").resolve(blob.digest().encoded()), "CONTENT");

    IOException e;
    try (InputStream in = store.openBlob(blob)) {
      e = assertThrows(BlobDigestMismatchException.class, in::readAllBytes);
    }

    assertThat(e)
        .hasMessageThat()
        .startsWith("blob " + blob.digest() + " of oci:" + temp.resolve("layout") + ": digest");
  }

  @Test
  void writeManifest_sameTag_replacesEntryInPlace() throws IOException {
    OciLayoutStore store = OciLayoutStore.openOrCreate(temp.resolve("layout"));
    byte[] first = "{\"schemaVersion\":2,\"manifests\":[]}".getBytes();
    byte[] second = "{\"schemaVersion\":2,\"manifests\":[],\"annotations\":{}}".getBytes();
    byte[] other = "{\"schemaVersion\":2,\"manifests\":[ ]}".getBytes();

    store.writeManifest(descriptorOf(MediaType.OCI_INDEX, first), first, "v1");
    store.writeManifest(descriptorOf(MediaType.OCI_INDEX, other), other, "v2");
    store.writeManifest(descriptorOf(MediaType.OCI_INDEX, second), second, "v1");

    assertThat(store.entries()).hasSize(2);
    assertThat(store.resolve("v1").digest()).isEqualTo(Digest.sha256Of(second));
    assertThat(store.entries().get(0).annotation(OciLayoutStore.REF_NAME)).isEqualTo("v1");
    assertThat(store.resolve(Digest.sha256Of(other).toString()).mediaType())
        .isEqualTo(MediaType.OCI_INDEX);
  }

  @Test
  void resolve_unknownTag_namesTag() throws IOException {
    OciLayoutStore store = OciLayoutStore.openOrCreate(temp.resolve("layout"));

    ImageNotFoundException e =
        assertThrows(ImageNotFoundException.class, () -> store.resolve("v9"));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("oci:" + temp.resolve("layout") + ": no image tagged \"v9\" in index.json");
  }
}
