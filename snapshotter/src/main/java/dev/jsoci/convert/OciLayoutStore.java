package dev.jsoci.convert;

import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageIndex;
import dev.jsoci.oci.MediaType;
import dev.jsoci.oci.OciFormatException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jspecify.annotations.Nullable;

/**
 * An OCI image layout directory (image-spec v1.1, "image-layout"):
 *
 * <ul>
 *   <li>{@code oci-layout}: {@code {"imageLayoutVersion":"1.0.0"}};
 *   <li>{@code index.json}: an image index whose entries are the tagged images, each tag in the
 *       entry's {@code org.opencontainers.image.ref.name} annotation;
 *   <li>{@code blobs/<algorithm>/<hex>}: every manifest, index, config and layer by digest.
 * </ul>
 *
 * <p>Blobs are written to a temporary file under {@code blobs/<algorithm>} and renamed once their
 * digest is checked, and {@code index.json} is replaced by a rename, so readers never see partial
 * content. Files get the permissions that the process's umask allows. Temporary files still open
 * when the JVM stops (Ctrl-C) are deleted. Not thread-safe, and two processes writing tags at once
 * may lose one of them.
 */
public final class OciLayoutStore implements ImageStore {
  /** The annotation of an {@code index.json} entry that contains its tag. */
  public static final String REF_NAME = "org.opencontainers.image.ref.name";

  private static final String LAYOUT_FILE = "oci-layout";
  private static final String INDEX_FILE = "index.json";
  private static final String LAYOUT_CONTENT = "{\"imageLayoutVersion\":\"1.0.0\"}";

  /** Temporary files being written, deleted by {@link #PARTIAL_FILE_CLEANUP} at JVM exit. */
  private static final Set<Path> PARTIAL_FILES = ConcurrentHashMap.newKeySet();

  /** Guards {@link #stopping} and the creation of temporary files against the cleanup. */
  private static final Object PARTIAL_FILES_LOCK = new Object();

  /** Set by the cleanup at JVM exit. No temporary file is created after it. */
  private static boolean stopping;

  private static final Thread PARTIAL_FILE_CLEANUP =
      new Thread(OciLayoutStore::cleanUpAtExit, "jsoci-layout-cleanup");

  static {
    Runtime.getRuntime().addShutdownHook(PARTIAL_FILE_CLEANUP);
  }

  private static final SecureRandom RANDOM = new SecureRandom();

  private final Path directory;

  private OciLayoutStore(Path directory) {
    this.directory = directory;
  }

  /**
   * Opens an existing layout.
   *
   * @throws ImageNotFoundException when {@code directory} has no {@code oci-layout} file
   */
  public static OciLayoutStore open(Path directory) throws IOException {
    if (!Files.isRegularFile(directory.resolve(LAYOUT_FILE))) {
      throw new ImageNotFoundException(
          "oci:" + directory + ": not an OCI image layout, " + LAYOUT_FILE + " is missing");
    }
    return new OciLayoutStore(directory);
  }

  /**
   * Opens the layout at {@code directory}, creating the directory and its files when missing.
   *
   * @throws IOException naming the directory when it cannot be created or written
   */
  public static OciLayoutStore openOrCreate(Path directory) throws IOException {
    try {
      Files.createDirectories(directory);
      Path layoutFile = directory.resolve(LAYOUT_FILE);
      if (!Files.exists(layoutFile)) {
        writeAtomically(layoutFile, LAYOUT_CONTENT.getBytes(StandardCharsets.UTF_8));
      }
      if (!Files.exists(directory.resolve(INDEX_FILE))) {
        ImageIndex empty = new ImageIndex(MediaType.OCI_INDEX, "", List.of(), null, Map.of());
        writeAtomically(directory.resolve(INDEX_FILE), empty.toBytes());
      }
    } catch (IOException e) {
      throw new IOException(
          "cannot create the OCI image layout "
              + directory
              + ": "
              + describe(e)
              + "; give a directory that you can write, or a path where one can be created",
          e);
    }
    OciLayoutStore store = new OciLayoutStore(directory);
    // A broken index.json fails here, before any blob is written, and not after the conversion.
    store.readIndexFile();
    return store;
  }

  /** Returns a file system error as a short phrase that names the file. */
  static String describe(IOException e) {
    if (e instanceof FileAlreadyExistsException exists) {
      return exists.getFile() + " exists and is not a directory";
    }
    if (e instanceof NoSuchFileException missing) {
      return "no such file or directory: " + missing.getFile();
    }
    if (e instanceof AccessDeniedException denied) {
      return "permission denied: " + denied.getFile();
    }
    if (e instanceof FileSystemException failed && failed.getReason() != null) {
      return failed.getReason() + ": " + failed.getFile();
    }
    return e.getMessage() != null ? e.getMessage() : e.toString();
  }

  public Path directory() {
    return directory;
  }

  @Override
  public String name() {
    return "oci:" + directory;
  }

  /** Returns the entries of {@code index.json}, each the descriptor of a tagged image. */
  public List<Descriptor> entries() throws IOException {
    return readIndexFile().manifests();
  }

  /**
   * Resolves a tag through the {@code org.opencontainers.image.ref.name} annotations of {@code
   * index.json}, or a digest through the blobs. When several entries have the tag, the last wins.
   */
  @Override
  public Descriptor resolve(String reference) throws IOException {
    if (reference.startsWith(Digest.SHA256 + ":") || reference.startsWith(Digest.SHA512 + ":")) {
      Digest digest = Digest.parse(reference);
      for (Descriptor entry : entries()) {
        if (entry.digest().equals(digest)) {
          return Descriptor.of(entry.mediaType(), digest, entry.size());
        }
      }
      byte[] bytes = readManifest(digest);
      return Descriptor.of(ManifestDocuments.mediaTypeOf(bytes), digest, bytes.length);
    }

    @Nullable Descriptor found = null;
    for (Descriptor entry : entries()) {
      if (reference.equals(entry.annotation(REF_NAME))) {
        found = entry;
      }
    }
    if (found == null) {
      throw new ImageNotFoundException(
          name() + ": no image tagged \"" + reference + "\" in " + INDEX_FILE);
    }
    return found;
  }

  @Override
  public byte[] readManifest(Digest digest) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(blobPath(digest));
    } catch (NoSuchFileException e) {
      throw new ImageNotFoundException(name() + ": manifest " + digest + " not found");
    }
    Digest actual = digest.hasher().update(bytes).digest();
    if (!actual.equals(digest)) {
      throw new BlobDigestMismatchException(
          "manifest " + digest + " of " + name(), digest, actual, bytes.length);
    }
    return bytes;
  }

  @Override
  public InputStream openBlob(Descriptor blob) throws IOException {
    Path path = blobPath(blob.digest());
    InputStream in;
    try {
      in = Files.newInputStream(path);
    } catch (NoSuchFileException e) {
      throw new ImageNotFoundException(name() + ": blob " + blob.digest() + " not found");
    }
    return new DigestCheckingInputStream(in, blob, "blob " + blob.digest() + " of " + name());
  }

  @Override
  public boolean hasBlob(Digest digest) {
    return Files.isRegularFile(blobPath(digest));
  }

  @Override
  public boolean hasManifest(Digest digest) {
    return hasBlob(digest);
  }

  @Override
  public BlobWriter newBlobWriter(@Nullable Descriptor expected) throws IOException {
    Path blobs = directory.resolve("blobs").resolve(Digest.SHA256);
    try {
      Files.createDirectories(blobs);
      return new FileBlobWriter(createPartialFile(blobs));
    } catch (IOException e) {
      throw writeFailure(e);
    }
  }

  /**
   * Stores the manifest as a blob and, with a tag, points the tag's {@code index.json} entry at it:
   * an entry with the same tag is replaced in place, otherwise one is appended.
   */
  @Override
  public void writeManifest(Descriptor descriptor, byte[] bytes, @Nullable String tag)
      throws IOException {
    writeBlob(descriptor, bytes);
    if (tag == null) {
      return;
    }

    Descriptor entry =
        Descriptor.builder(descriptor.mediaType(), descriptor.digest(), descriptor.size())
            .annotations(Map.of(REF_NAME, tag))
            .build();
    ImageIndex index = readIndexFile();
    List<Descriptor> entries = new ArrayList<>();
    boolean replaced = false;
    for (Descriptor existing : index.manifests()) {
      if (tag.equals(existing.annotation(REF_NAME))) {
        if (!replaced) {
          entries.add(entry);
          replaced = true;
        }
      } else {
        entries.add(existing);
      }
    }
    if (!replaced) {
      entries.add(entry);
    }
    ImageIndex updated =
        new ImageIndex(MediaType.OCI_INDEX, "", entries, index.subject(), index.annotations());
    writeAtomically(directory.resolve(INDEX_FILE), updated.toBytes());
  }

  @Override
  public void close() {}

  private ImageIndex readIndexFile() throws IOException {
    Path file = directory.resolve(INDEX_FILE);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IOException("cannot read " + file + ": " + describe(e), e);
    }
    try {
      return ImageIndex.parse(bytes);
    } catch (OciFormatException e) {
      throw new OciFormatException(file + ": " + e.getMessage(), e);
    }
  }

  private IOException writeFailure(IOException e) {
    return new IOException(
        "cannot write to the OCI image layout " + directory + ": " + describe(e), e);
  }

  private Path blobPath(Digest digest) {
    return directory.resolve("blobs").resolve(digest.algorithm()).resolve(digest.encoded());
  }

  private static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path temporary = createPartialFile(target.toAbsolutePath().getParent());
    try {
      Files.write(temporary, bytes);
      Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      deletePartialFile(temporary);
    }
  }

  /**
   * Creates an empty temporary file in {@code directory} with the umask's permissions ({@link
   * Files#createTempFile} gives 0600) and registers it for deletion at JVM exit.
   */
  private static Path createPartialFile(Path directory) throws IOException {
    for (int attempt = 1; ; attempt++) {
      Path file = directory.resolve(".partial-" + Long.toUnsignedString(RANDOM.nextLong(), 36));
      synchronized (PARTIAL_FILES_LOCK) {
        if (stopping) {
          throw new InterruptedIOException("the JVM is stopping; " + file + " was not created");
        }
        try {
          Files.createFile(file);
          PARTIAL_FILES.add(file);
          return file;
        } catch (FileAlreadyExistsException e) {
          if (attempt == 100) {
            throw e;
          }
        }
      }
    }
  }

  private static void deletePartialFile(Path file) throws IOException {
    try {
      Files.deleteIfExists(file);
    } finally {
      PARTIAL_FILES.remove(file);
    }
  }

  /**
   * Stops the creation of temporary files, then deletes those still registered. The other threads
   * of the JVM run on while shutdown hooks run, so a file created after the deletion would stay.
   */
  private static void cleanUpAtExit() {
    synchronized (PARTIAL_FILES_LOCK) {
      stopping = true;
    }
    deletePartialFiles();
  }

  static void deletePartialFiles() {
    for (Path file : PARTIAL_FILES) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        // The JVM is stopping, so a file that cannot be deleted stays as .partial-*.
      }
    }
  }

  /** Writes a blob to a temporary file and renames it to its digest on commit. */
  private final class FileBlobWriter extends BlobWriter {
    private final Path temporary;
    private final OutputStream out;

    FileBlobWriter(Path temporary) throws IOException {
      this.temporary = temporary;
      this.out = Files.newOutputStream(temporary);
    }

    @Override
    protected void writeContent(byte[] buffer, int offset, int length) throws IOException {
      try {
        out.write(buffer, offset, length);
      } catch (IOException e) {
        throw writeFailure(e);
      }
    }

    @Override
    protected boolean publish(Digest digest, long sizeBytes) throws IOException {
      Path target = blobPath(digest);
      try {
        out.close();
        if (Files.exists(target)) {
          return false;
        }
        Files.createDirectories(target.getParent());
        Files.move(temporary, target);
      } catch (FileAlreadyExistsException e) {
        // Another writer stored the same content first.
        return false;
      } catch (IOException e) {
        throw writeFailure(e);
      }
      PARTIAL_FILES.remove(temporary);
      return true;
    }

    @Override
    protected String storeName() {
      return name();
    }

    @Override
    public void close() throws IOException {
      try {
        out.close();
      } finally {
        deletePartialFile(temporary);
      }
    }
  }
}
