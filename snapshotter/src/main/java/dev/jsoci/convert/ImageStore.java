package dev.jsoci.convert;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import org.jspecify.annotations.Nullable;

/**
 * Content-addressed storage of one image repository: a repository of a registry or an OCI image
 * layout directory. Manifests and blobs are named by digest, and tags name manifests or indexes.
 *
 * <p>Implementations check digests: {@link #readManifest} returns only bytes that match, {@link
 * #openBlob} fails at the end of a blob that does not match, and a {@link BlobWriter} publishes
 * only content that matches the digest it is committed with. Not necessarily thread-safe.
 */
public interface ImageStore extends Closeable {

  /**
   * Returns the store's name for messages, such as {@code 127.0.0.1:5000/app} or {@code oci:dir}.
   */
  String name();

  /**
   * Returns the descriptor of the manifest or image index that {@code reference} names.
   *
   * @param reference a tag, or a digest in the form {@code sha256:<hex>}
   * @throws IOException when nothing has that name
   */
  Descriptor resolve(String reference) throws IOException;

  /**
   * Returns the bytes of the manifest or image index {@code digest}, checked against it.
   *
   * @throws IOException when it is missing or its bytes do not match
   */
  byte[] readManifest(Digest digest) throws IOException;

  /**
   * Opens the blob {@code blob} for reading from its start. The stream throws an {@link
   * IOException} at its end when the bytes do not match the descriptor's digest and size. The
   * caller closes it.
   */
  InputStream openBlob(Descriptor blob) throws IOException;

  /** Returns whether the store has the blob {@code digest}. */
  boolean hasBlob(Digest digest) throws IOException;

  /** Returns whether the store has the manifest or image index {@code digest}. */
  boolean hasManifest(Digest digest) throws IOException;

  /**
   * Returns whether what this store writes lands where it reads from. A registry whose hosts.toml
   * sends pushes to another host than its server does not, because blobs read from the same
   * repository are not in that host.
   */
  default boolean writesWhereItReads() throws IOException {
    return true;
  }

  /**
   * Starts writing a blob that {@link #hasBlob} has just reported missing, so a registry is not
   * asked again. The writer publishes the content only when it is committed; closing it without a
   * commit discards what was written.
   *
   * @param expected the blob's descriptor when its digest and size are known before the first byte,
   *     or null when they are known only at the end. A registry needs the digest up front to send
   *     the bytes on while they are written.
   */
  BlobWriter newBlobWriter(@Nullable Descriptor expected) throws IOException;

  /**
   * Stores the manifest or image index {@code bytes} under its digest and, when {@code tag} is not
   * null, points {@code tag} at it.
   *
   * @param descriptor the media type, digest and size of {@code bytes}
   */
  void writeManifest(Descriptor descriptor, byte[] bytes, @Nullable String tag) throws IOException;

  /**
   * Links the blob {@code blob} of {@code source}, which {@link #hasBlob} has just reported
   * missing, into this store without reading it, for example by a cross-repository mount on the
   * same registry.
   *
   * @return whether the blob is now in this store; false when that needs a copy
   */
  default boolean mountBlob(Descriptor blob, ImageStore source) throws IOException {
    return false;
  }

  /**
   * Makes the blob {@code blob} of {@code source} available in this store, unless the store has it
   * already. A store may link the blob instead of sending its bytes, such as a registry that mounts
   * it from another repository of the same registry. This default streams the blob through {@link
   * #newBlobWriter}.
   *
   * @return whether the blob's bytes were sent or stored; false when the store had the blob or
   *     linked it
   */
  default boolean copyBlob(Descriptor blob, ImageStore source) throws IOException {
    if (hasBlob(blob.digest())) {
      return false;
    }
    try (InputStream in = source.openBlob(blob);
        BlobWriter writer = newBlobWriter(blob)) {
      in.transferTo(writer);
      return writer.commit(blob.digest());
    }
  }

  /**
   * Writes the small blob {@code content} under {@code blob}, unless the store has it already.
   *
   * @return whether the bytes were sent or stored
   */
  default boolean writeBlob(Descriptor blob, byte[] content) throws IOException {
    if (hasBlob(blob.digest())) {
      return false;
    }
    try (BlobWriter writer = newBlobWriter(blob)) {
      writer.write(content);
      return writer.commit(blob.digest());
    }
  }
}
