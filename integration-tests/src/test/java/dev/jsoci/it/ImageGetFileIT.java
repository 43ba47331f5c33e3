package dev.jsoci.it;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jsoci.fetcher.registry.RegistryClient;
import dev.jsoci.fetcher.registry.RegistryOptions;
import dev.jsoci.fetcher.registry.ResolvedImage;
import dev.jsoci.oci.Descriptor;
import dev.jsoci.oci.Digest;
import dev.jsoci.oci.ImageRef;
import dev.jsoci.oci.Platform;
import dev.jsoci.oci.SociAnnotations;
import dev.jsoci.oci.SociIndex;
import dev.jsoci.testing.LocalRegistry;
import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.TocIndex;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.Zinfos;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocCodec;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Reads every file of a three-layer image with {@code jsoci image get-file}, before and after
 * {@code jsoci convert}, and compares it with a reference extraction of the same layers by GNU tar.
 * The image, bottom layer first:
 *
 * <ul>
 *   <li>{@code base}: gzip, GNU tar format, about 11 MiB, so it gets a zTOC. Files of many sizes
 *       (one spans five 64 KiB spans), hard links, a symbolic link inside a directory that is
 *       reached through a symbolic link, names longer than 100 bytes, and the paths that the upper
 *       layers delete or replace.
 *   <li>{@code middle}: gzip, members named {@code ./...}, about 80 KiB, so it gets no zTOC.
 *       Whiteouts of a directory and of a file, a replaced file, hard links, a symbolic link
 *       through the symbolic link {@code alias}.
 *   <li>{@code top}: gzip, POSIX (pax) format, about 11 MiB, so it gets a zTOC. An opaque
 *       directory, whiteouts of a symbolic link and a hard-linked name, a whiteout and a new entry
 *       of the same name in one layer, a file that becomes a directory, chains of relative and
 *       absolute symbolic links, and {@code top/small.txt}, whose fetch the test counts.
 * </ul>
 *
 * <p>The image is pushed with skopeo to a docker-registry on loopback that logs every request, and
 * converted with 64 KiB spans. Most reads run {@code jsoci} in this JVM, because a new JVM per file
 * would take minutes; a few run {@code bin/jsoci} as a separate process.
 */
class ImageGetFileIT {
  private static final Platform AMD64 = Platform.of("linux", "amd64");
  private static final int SPAN_SIZE = 65536;

  /** Random bytes, so incompressible: enough to keep a layer's gzip above the 10 MiB minimum. */
  private static final int NOISE_BYTES = (10 << 20) + (512 << 10);

  private static final String SMALL_FILE = "top/small.txt";
  private static final String LONG_DIRECTORY =
      "deep/a-directory-name-of-forty-characters/another-directory-name-of-forty-chars";

  /**
   * A path longer than 100 bytes, so GNU tar stores it in a {@code ././@LongLink} entry of type L,
   * and the link name of a hard link to it in one of type K.
   */
  private static final String LONG_FILE =
      LONG_DIRECTORY + "/a-file-name-that-makes-the-path-longer-than-100.txt";

  /** A path longer than 255 bytes, so POSIX tar stores it in a pax {@code path} record. */
  private static final String PAX_FILE = "pax/" + "x".repeat(120) + "/" + "y".repeat(120) + ".txt";

  @TempDir static Path work;
  private static AccessLoggedRegistry registry;
  private static RegistryClient client;
  private static String plainImage;
  private static String sociImage;
  private static final Map<String, OciLayout.Layer> layers = new LinkedHashMap<>();

  /** The regular files of the reference extraction, by path relative to its root. */
  private static final Map<String, byte[]> expected = new TreeMap<>();

  /** Paths that a layer's tar lists but the merged filesystem lacks, whiteout entries included. */
  private static final Set<String> hidden = new TreeSet<>();

  @BeforeAll
  static void buildPushAndConvert() throws Exception {
    assumeTrue(LocalRegistry.isInstalled(), "docker-registry is not installed");
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/skopeo")), "skopeo is not installed");
    assumeTrue(
        Files.isExecutable(Path.of("/bin/tar")) && Files.isExecutable(Path.of("/bin/gzip")),
        "tar or gzip is not installed");

    // Build the layers and the image.
    OciLayout layout = OciLayout.create(work.resolve("layout"));
    Path base = writeBase(work.resolve("tree-base"));
    layers.put(
        "base",
        layout.addTarLayer(base, topLevel(base), true, List.of("--format=gnu"), work, "base"));
    Path middle = writeMiddle(work.resolve("tree-middle"));
    layers.put(
        "middle",
        layout.addTarLayer(middle, List.of("."), true, List.of("--format=gnu"), work, "middle"));
    Path top = writeTop(work.resolve("tree-top"));
    layers.put(
        "top",
        layout.addTarLayer(top, topLevel(top), true, List.of("--format=posix"), work, "top"));
    Descriptor manifest = layout.writeImage(AMD64, List.copyOf(layers.values()));
    layout.writeIndex(List.of(manifest.toBuilder().platform(AMD64).build()));
    extractReference(work.resolve("reference"));

    // Push and convert it.
    registry = AccessLoggedRegistry.start(work.resolve("registry"));
    plainImage = registry.host() + "/getfile:v1";
    sociImage = registry.host() + "/getfile:soci";
    layout.pushWithSkopeo(plainImage);
    Processes.Result converted =
        jsociProcess(
            "convert",
            "--plain-http",
            "--platform",
            "linux/amd64",
            "--span-size",
            Integer.toString(SPAN_SIZE),
            plainImage,
            sociImage);
    assertWithMessage("jsoci convert\nstdout: %s\nstderr: %s", converted.out(), converted.err())
        .that(converted.status())
        .isEqualTo(0);
    assertThat(converted.out()).contains("layers: 2 indexed, 1 skipped, 0 failed");
    client =
        RegistryClient.create(
            RegistryOptions.builder().plainHttp(true).hostsDirectory(null).build());
  }

  @AfterAll
  static void stopRegistry() {
    if (client != null) {
      client.close();
    }
    if (registry != null) {
      registry.close();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The layers

  private static Path writeBase(Path tree) throws IOException {
    writeFile(tree, "data/empty", new byte[0]);
    writeFile(tree, "data/one", "1".getBytes(UTF_8));
    for (int size : new int[] {511, 512, 513, 4095, 4096, 65535, 65536, 65537, 1 << 20}) {
      writeFile(tree, "data/text-" + size, text(size, "base text " + size));
    }
    writeFile(tree, "data/multi-span.bin", random(300_000, 11));
    writeFile(tree, "data/noise.bin", random(NOISE_BYTES, 12));

    // Paths that the upper layers replace, delete or hide.
    writeFile(tree, "etc/config.txt", text(200, "base config"));
    writeFile(tree, "etc/replaced-by-top.txt", text(3000, "base version"));
    writeFile(tree, "etc/was-file", text(100, "a file that top turns into a directory"));
    writeFile(tree, "gone/a.txt", text(50, "whited out with its directory"));
    writeFile(tree, "gone/sub/b.txt", text(50, "whited out with its parent"));
    writeFile(tree, "partial/keep.txt", text(50, "kept"));
    writeFile(tree, "partial/drop.txt", text(50, "whited out by middle"));
    writeFile(tree, "opaque/old.txt", text(50, "hidden by the opaque directory"));
    writeFile(tree, "opaque/sub/deep.txt", text(50, "hidden by the opaque directory"));
    writeFile(tree, "opaque/kept-name.txt", text(50, "base version, replaced in top"));
    writeFile(tree, "recreated/old.txt", text(50, "whited out with its directory"));
    writeFile(tree, "was-dir/x.txt", text(50, "below a directory that top turns into a file"));

    writeFile(tree, "links/hard.txt", text(70_000, "hard-linked three times"));
    hardLink(tree, "links/original.txt", "links/hard.txt");
    hardLink(tree, "other/hard-elsewhere.txt", "links/hard.txt");
    writeFile(tree, "links/hard-deleted-target.txt", text(5000, "one name whited out by top"));
    hardLink(tree, "links/survivor.txt", "links/hard-deleted-target.txt");

    writeFile(tree, "real/file.txt", text(1500, "reached through symbolic links"));
    symlink(tree, "real/link-to-file", "file.txt");
    symlink(tree, "alias", "real");
    symlink(tree, "abs-link", "/data/one");
    symlink(tree, "loop-a", "loop-b");
    symlink(tree, "loop-b", "loop-a");
    symlink(tree, "dangling", "nowhere/file");
    writeFile(tree, "swap/x.txt", text(50, "below a directory that top turns into a link"));

    writeFile(tree, LONG_FILE, text(700, "long name"));
    writeFile(
        tree,
        LONG_DIRECTORY + "/whited-out-by-the-top-layer-through-a-pax-path.txt",
        text(70, "whited out"));
    hardLink(tree, "links/hard-to-long-name", LONG_FILE);
    symlink(tree, "links/symlink-to-long-name", "../" + LONG_FILE);

    writeFile(tree, "names/with space.txt", text(64, "space"));
    if ("UTF-8".equals(System.getProperty("sun.jnu.encoding"))) {
      writeFile(tree, "names/\u00fcn\u00efc\u00f8d\u00e9.txt", text(64, "non-ASCII name"));
    }
    return tree;
  }

  private static Path writeMiddle(Path tree) throws IOException {
    writeFile(tree, "etc/config.txt", text(300, "middle config"));
    writeFile(tree, ".wh.gone", new byte[0]);
    writeFile(tree, "partial/.wh.drop.txt", new byte[0]);
    writeFile(tree, "middle/file.txt", text(5000, "middle"));
    writeFile(tree, "middle/random-70000.bin", random(70_000, 21));
    symlink(tree, "middle/to-alias", "../alias/link-to-file");
    writeFile(tree, "middle/hard-1", text(2000, "hard-linked in a layer without a zTOC"));
    hardLink(tree, "middle/hard-2", "middle/hard-1");
    return tree;
  }

  private static Path writeTop(Path tree) throws IOException {
    writeFile(tree, "top/noise.bin", random(NOISE_BYTES, 31));
    writeFile(tree, SMALL_FILE, text(120, "small file of an indexed layer"));
    writeFile(tree, "top/hard-a", random(200_000, 32));
    hardLink(tree, "top/hard-b", "top/hard-a");
    symlink(tree, "top/link-dir", "../real");
    symlink(tree, "top/link-dir2", "/top/link-dir");
    symlink(tree, "top/escape", "../../../../data/one");
    writeFile(tree, "etc/replaced-by-top.txt", text(2500, "top version"));
    writeFile(tree, "etc/was-file/inside.txt", text(40, "inside a former file"));
    writeFile(tree, "opaque/.wh..wh..opq", new byte[0]);
    writeFile(tree, "opaque/kept-name.txt", text(80, "top version"));
    writeFile(tree, "opaque/new.txt", text(80, "new in the opaque directory"));
    writeFile(tree, "links/.wh.hard-deleted-target.txt", new byte[0]);
    writeFile(tree, ".wh.abs-link", new byte[0]);
    writeFile(tree, ".wh.recreated", new byte[0]);
    writeFile(tree, "recreated/new.txt", text(60, "beside its directory's whiteout"));
    writeFile(tree, ".wh.was-dir", new byte[0]);
    writeFile(tree, "was-dir", text(60, "a file where a directory was"));
    writeFile(tree, ".wh.swap", new byte[0]);
    symlink(tree, "swap", "real");
    writeFile(
        tree,
        LONG_DIRECTORY + "/.wh.whited-out-by-the-top-layer-through-a-pax-path.txt",
        new byte[0]);
    writeFile(tree, PAX_FILE, text(900, "pax path"));
    hardLink(tree, "pax/hard-to-long-name", PAX_FILE);
    symlink(tree, "pax/symlink-to-long-name", "../" + PAX_FILE);
    return tree;
  }

  private static void writeFile(Path tree, String path, byte[] content) throws IOException {
    Path file = tree.resolve(path);
    Files.createDirectories(file.getParent());
    Files.write(file, content);
  }

  private static void hardLink(Path tree, String path, String existing) throws IOException {
    Files.createDirectories(tree.resolve(path).getParent());
    Files.createLink(tree.resolve(path), tree.resolve(existing));
  }

  private static void symlink(Path tree, String path, String target) throws IOException {
    Files.createDirectories(tree.resolve(path).getParent());
    Files.createSymbolicLink(tree.resolve(path), Path.of(target));
  }

  /** Returns {@code size} bytes of numbered text lines, which gzip compresses well. */
  private static byte[] text(int size, String label) {
    StringBuilder text = new StringBuilder(size + 64);
    for (int line = 0; text.length() < size; line++) {
      text.append(label).append(", line ").append(line).append('\n');
    }
    return Arrays.copyOf(text.toString().getBytes(UTF_8), size);
  }

  private static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  private static List<String> topLevel(Path tree) throws IOException {
    try (Stream<Path> children = Files.list(tree)) {
      return children.map(child -> child.getFileName().toString()).sorted().toList();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The reference extraction

  /**
   * Extracts the layers bottom first into {@code root} as the OCI image-spec's layer format
   * ("Whiteouts") describes. Before a layer's own entries are extracted, each {@code .wh.NAME}
   * deletes NAME and each {@code .wh..wh..opq} empties its directory, so that both apply only to
   * the layers below. Fills {@link #expected} and {@link #hidden}.
   */
  private static void extractReference(Path root) throws IOException, InterruptedException {
    Files.createDirectories(root);
    Set<String> listed = new TreeSet<>();
    for (OciLayout.Layer layer : layers.values()) {
      String listing =
          Processes.run(
                  List.of("tar", "--quoting-style=literal", "-tf", layer.blob().toString()), work)
              .out();
      for (String name : listing.split("\n")) {
        String path = cleanPath(name);
        if (path.isEmpty()) {
          continue;
        }
        String baseName = path.substring(path.lastIndexOf('/') + 1);
        String parent = path.contains("/") ? path.substring(0, path.lastIndexOf('/')) : "";
        if (baseName.equals(".wh..wh..opq")) {
          emptyDirectory(root, parent);
          hidden.add(path);
        } else if (baseName.startsWith(".wh.")) {
          String deleted = baseName.substring(".wh.".length());
          deleteRecursively(insideRoot(root, parent.isEmpty() ? deleted : parent + "/" + deleted));
          hidden.add(path);
        } else {
          listed.add(path);
        }
      }
      Processes.run(
          List.of(
              "tar", "-x", "-f", layer.blob().toString(), "-C", root.toString(), "--exclude=.wh.*"),
          work);
    }

    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path :
          paths.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
        expected.put(root.relativize(path).toString(), Files.readAllBytes(path));
      }
    }
    for (String path : listed) {
      if (!Files.exists(root.resolve(path), LinkOption.NOFOLLOW_LINKS)) {
        hidden.add(path);
      }
    }
  }

  private static String cleanPath(String tarName) {
    String path = tarName;
    while (path.startsWith("./")) {
      path = path.substring(2);
    }
    if (path.equals(".")) {
      return "";
    }
    return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
  }

  /** Resolves {@code path} under {@code root}, rejecting a path that leaves the root. */
  private static Path insideRoot(Path root, String path) throws IOException {
    Path resolved = root.resolve(path).normalize();
    Path parent = resolved.getParent();
    if (!resolved.startsWith(root)
        || (Files.exists(parent) && !parent.toRealPath().startsWith(root.toRealPath()))) {
      throw new IOException("whiteout path \"" + path + "\" leaves the extraction root " + root);
    }
    return resolved;
  }

  private static void emptyDirectory(Path root, String directory) throws IOException {
    Path resolved = insideRoot(root, directory);
    if (!Files.isDirectory(resolved, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> children = Files.list(resolved)) {
      for (Path child : children.toList()) {
        deleteRecursively(child);
      }
    }
  }

  private static void deleteRecursively(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(path)) {
      for (Path each : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(each);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Running jsoci

  /**
   * {@code dev.jsoci.cli.Main.newCommandLine()}: the command line with the exit statuses and
   * one-line error messages of {@code bin/jsoci}. It is package-private, so it is called
   * reflectively.
   */
  private static final Method NEW_COMMAND_LINE = newCommandLineMethod();

  private static Method newCommandLineMethod() {
    try {
      Method method = Class.forName("dev.jsoci.cli.Main").getDeclaredMethod("newCommandLine");
      method.setAccessible(true);
      return method;
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("dev.jsoci.cli.Main.newCommandLine() not found", e);
    }
  }

  /** Runs {@code jsoci args} in this JVM and returns its exit status, stdout and stderr. */
  private static Processes.Result jsociInProcess(String... args) throws Exception {
    CommandLine commandLine = (CommandLine) NEW_COMMAND_LINE.invoke(null);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int status = commandLine.execute(args);
    return new Processes.Result(status, out.toString(), err.toString());
  }

  /**
   * Runs {@code bin/jsoci args} of this checkout as a new process, or the same main class with this
   * test's class path when the launcher's jar is not built.
   */
  private static Processes.Result jsociProcess(String... args) throws Exception {
    Path checkout = Path.of("").toAbsolutePath().getParent();
    Path launcher = checkout.resolve("bin/jsoci");
    if (!Files.isExecutable(launcher)
        || !Files.isRegularFile(checkout.resolve("snapshotter/target/jsoci-snapshotter.jar"))) {
      return Processes.jsoci(work, args);
    }
    List<String> command = new ArrayList<>();
    command.add(launcher.toString());
    command.addAll(List.of(args));
    return Processes.start(command, work);
  }

  private static String[] getFileArgs(String image, Path out, String path, String... options) {
    List<String> args =
        new ArrayList<>(List.of("image", "get-file", "--plain-http", "--platform", "linux/amd64"));
    args.addAll(List.of(options));
    if (out != null) {
      args.addAll(List.of("--out", out.toString()));
    }
    args.addAll(List.of(image, path));
    return args.toArray(new String[0]);
  }

  /** Reads every file of {@link #expected} from {@code image} and returns one line per mismatch. */
  private static List<String> readEveryFile(String image) throws Exception {
    List<String> failures = new ArrayList<>();
    Path out = work.resolve("every-file.out");
    for (Map.Entry<String, byte[]> file : expected.entrySet()) {
      Files.deleteIfExists(out);
      Processes.Result result = jsociInProcess(getFileArgs(image, out, file.getKey()));
      if (result.status() != 0) {
        failures.add(file.getKey() + ": exit status " + result.status() + ", " + result.err());
        continue;
      }
      byte[] actual = Files.readAllBytes(out);
      if (!Arrays.equals(actual, file.getValue())) {
        failures.add(
            file.getKey()
                + ": "
                + actual.length
                + " bytes, expected "
                + file.getValue().length
                + ", first difference at byte "
                + Arrays.mismatch(actual, file.getValue()));
      }
    }
    return failures;
  }

  private static JsonNode statsOf(Processes.Result result) throws IOException {
    String[] lines = result.err().strip().split("\n");
    return new ObjectMapper().readTree(lines[lines.length - 1]);
  }

  /** Reads the SOCI index of the converted image back from the registry. */
  private static SociIndex sociIndex() throws IOException {
    ImageRef ref = ImageRef.parse(sociImage);
    ResolvedImage image = client.resolveImage(ref, AMD64);
    String digest = image.parsedManifest().annotations().get(SociAnnotations.INDEX_DIGEST);
    return SociIndex.parse(client.fetchManifest(ref, Digest.parse(digest)).bytes());
  }

  /** The spans of a layer that contain one file's bytes, first to last, with the layer's zTOC. */
  private record SpanRange(Descriptor ztoc, Zinfo zinfo, int first, int last) {
    int count() {
      return last - first + 1;
    }

    long compressedBytes() {
      long bytes = 0;
      for (int id = first; id <= last; id++) {
        bytes += zinfo.span(id).compressedLength();
      }
      return bytes;
    }
  }

  private static SpanRange spansOf(String layer, String path) throws IOException {
    Descriptor ztocDescriptor =
        sociIndex().ztocFor(layers.get(layer).descriptor().digest()).orElseThrow();
    Ztoc ztoc =
        ZtocCodec.decode(
            client.readBlob(ImageRef.parse(sociImage), ztocDescriptor), layer + " zTOC");
    TocEntry entry = TocIndex.of(ztoc, layer + " zTOC").resolve(ByteString.utf8(path));
    Zinfo zinfo = Zinfos.of(ztoc, layer + " zTOC");
    long end = entry.uncompressedOffset() + Math.max(1, entry.uncompressedSize());
    return new SpanRange(
        ztocDescriptor, zinfo, zinfo.spanOf(entry.uncompressedOffset()), zinfo.spanOf(end - 1));
  }

  // ---------------------------------------------------------------------------------------------
  // Tests

  @Test
  void getFile_convertedImage_returnsEveryFile() throws Exception {
    assertThat(expected.size()).isAtLeast(40);
    assertThat(expected).containsKey(LONG_FILE);
    assertThat(expected).containsKey("links/hard-to-long-name");
    assertThat(expected).containsKey("pax/hard-to-long-name");

    assertThat(readEveryFile(sociImage)).isEmpty();
  }

  @Test
  void getFile_unconvertedImage_returnsEveryFile() throws Exception {
    assertThat(readEveryFile(plainImage)).isEmpty();
  }

  @Test
  void getFile_hiddenPaths_failWithOneLine() throws Exception {
    assertThat(hidden)
        .containsAtLeast(
            "gone/a.txt",
            "gone/sub/b.txt",
            "partial/drop.txt",
            "opaque/old.txt",
            "opaque/sub/deep.txt",
            "links/hard-deleted-target.txt",
            "abs-link",
            "recreated/old.txt",
            "was-dir/x.txt",
            ".wh.gone",
            "opaque/.wh..wh..opq",
            "swap/x.txt",
            LONG_DIRECTORY + "/whited-out-by-the-top-layer-through-a-pax-path.txt");
    assertThat(hidden).doesNotContain("opaque/kept-name.txt");

    List<String> failures = new ArrayList<>();
    for (String image : List.of(sociImage, plainImage)) {
      for (String path : hidden) {
        Processes.Result result = jsociInProcess(getFileArgs(image, work.resolve("hidden"), path));
        String prefix = "jsoci: path \"" + path + "\"";
        if (result.status() != 1
            || result.err().strip().lines().count() != 1
            || !result.err().startsWith(prefix)) {
          failures.add(
              image + " " + path + ": exit status " + result.status() + ", " + result.err());
        }
      }
    }
    assertThat(failures).isEmpty();
    assertThat(Files.exists(work.resolve("hidden"))).isFalse();
  }

  @Test
  void getFile_missingPaths_nameWhatIsMissing() throws Exception {
    Map<String, String> messages = new LinkedHashMap<>();
    messages.put(
        "gone/sub/b.txt", "path \"gone/sub/b.txt\" is not in the image: \"gone\" does not exist");
    messages.put(
        "opaque/sub/deep.txt",
        "path \"opaque/sub/deep.txt\" is not in the image: \"opaque/sub\" does not exist");
    messages.put(
        "partial/drop.txt",
        "path \"partial/drop.txt\" is not in the image: \"partial/drop.txt\" does not exist");
    messages.put(
        "recreated/old.txt",
        "path \"recreated/old.txt\" is not in the image: \"recreated/old.txt\" does not exist");
    messages.put("was-dir/x.txt", "path \"was-dir/x.txt\": \"was-dir\" is not a directory");
    messages.put("top", "path \"top\" is a dir, not a regular file");
    messages.put("alias", "path \"alias\" is a dir, not a regular file");
    messages.put("loop-a", "path \"loop-a\": too many levels of symbolic links");
    messages.put("dangling", "path \"dangling\" is not in the image: \"nowhere\" does not exist");
    messages.put(
        "swap/x.txt", "path \"swap/x.txt\" is not in the image: \"real/x.txt\" does not exist");

    for (Map.Entry<String, String> message : messages.entrySet()) {
      Processes.Result result = jsociInProcess(getFileArgs(sociImage, null, message.getKey()));
      assertWithMessage(message.getKey()).that(result.status()).isEqualTo(1);
      assertWithMessage(message.getKey())
          .that(result.err())
          .isEqualTo("jsoci: " + message.getValue() + "\n");
    }
    Processes.Result process = jsociProcess(getFileArgs(sociImage, null, "gone/a.txt"));
    assertThat(process.status()).isEqualTo(1);
    assertThat(process.out()).isEmpty();
    assertThat(process.err())
        .isEqualTo("jsoci: path \"gone/a.txt\" is not in the image: \"gone\" does not exist\n");
  }

  @Test
  void getFile_symbolicLinks_resolveInsideImage() throws Exception {
    Map<String, String> targets = new LinkedHashMap<>();
    targets.put("alias/link-to-file", "real/file.txt");
    targets.put("top/link-dir/file.txt", "real/file.txt");
    targets.put("/top/link-dir2/link-to-file", "real/file.txt");
    targets.put("./middle/to-alias", "real/file.txt");
    targets.put("top/escape", "data/one");
    targets.put("alias/../data/one", "data/one");
    targets.put("swap/file.txt", "real/file.txt");
    targets.put("links/symlink-to-long-name", LONG_FILE);
    targets.put("pax/symlink-to-long-name", PAX_FILE);

    for (Map.Entry<String, String> link : targets.entrySet()) {
      Path out = work.resolve("link.out");
      Files.deleteIfExists(out);
      Processes.Result result = jsociProcess(getFileArgs(sociImage, out, link.getKey()));
      assertWithMessage("%s: %s", link.getKey(), result.err()).that(result.status()).isEqualTo(0);
      assertWithMessage(link.getKey())
          .that(Files.readAllBytes(out))
          .isEqualTo(expected.get(link.getValue()));
    }
  }

  @Test
  void getFile_outDash_writesStdout() throws Exception {
    Processes.Result result = jsociProcess(getFileArgs(sociImage, Path.of("-"), SMALL_FILE));

    assertThat(result.status()).isEqualTo(0);
    assertThat(result.out().getBytes(UTF_8)).isEqualTo(expected.get(SMALL_FILE));
    assertThat(Files.exists(work.resolve("-"))).isFalse();
  }

  @Test
  void getFile_processWithoutOut_writesStdout() throws Exception {
    Processes.Result result = jsociProcess(getFileArgs(sociImage, null, SMALL_FILE, "--stats"));

    assertThat(result.status()).isEqualTo(0);
    assertThat(result.out().getBytes(UTF_8)).isEqualTo(expected.get(SMALL_FILE));
    assertThat(result.err().strip().lines().count()).isEqualTo(1);
    assertThat(statsOf(result).get("mode").asText()).isEqualTo("lazy");
  }

  @Test
  void stats_bottomLayerFile_readLazily() throws Exception {
    SpanRange spans = spansOf("base", "data/multi-span.bin");
    Processes.Result result =
        jsociInProcess(
            getFileArgs(sociImage, work.resolve("stats.out"), "data/multi-span.bin", "--stats"));

    assertThat(result.status()).isEqualTo(0);
    JsonNode stats = statsOf(result);
    assertThat(stats.get("mode").asText()).isEqualTo("lazy");
    assertThat(stats.get("layer").asText())
        .isEqualTo(layers.get("base").descriptor().digest().toString());
    assertThat(stats.get("soci_index").asText()).startsWith("sha256:");
    assertThat(stats.get("spans_fetched").asLong()).isEqualTo(spans.count());
    assertThat(spans.count()).isAtLeast(5);
    assertThat(stats.get("layers_read_lazily").asLong()).isEqualTo(2);
    assertThat(stats.get("layers_downloaded").asLong()).isEqualTo(1);
    long layerBytes = 0;
    for (OciLayout.Layer layer : layers.values()) {
      layerBytes += layer.descriptor().size();
    }
    assertThat(stats.get("bytes_fetched").asLong())
        .isAtLeast(layers.get("middle").descriptor().size() + spans.compressedBytes());
    assertThat(stats.get("bytes_fetched").asLong()).isLessThan(layerBytes);
    assertThat(stats.get("requests").asLong()).isAtLeast(6);
    assertThat(stats.get("seconds").asDouble()).isGreaterThan(0.0);
  }

  @Test
  void stats_layerWithoutZtoc_downloaded() throws Exception {
    Processes.Result result =
        jsociInProcess(
            getFileArgs(sociImage, work.resolve("stats.out"), "middle/file.txt", "--stats"));

    assertThat(result.status()).isEqualTo(0);
    JsonNode stats = statsOf(result);
    assertThat(stats.get("mode").asText()).isEqualTo("download");
    assertThat(stats.get("layer").asText())
        .isEqualTo(layers.get("middle").descriptor().digest().toString());
    assertThat(stats.get("spans_fetched").asLong()).isEqualTo(0);
    assertThat(stats.get("layers_read_lazily").asLong()).isEqualTo(1);
    assertThat(stats.get("layers_downloaded").asLong()).isEqualTo(1);
  }

  @Test
  void stats_unconvertedImage_downloadsAll() throws Exception {
    Processes.Result result =
        jsociInProcess(
            getFileArgs(plainImage, work.resolve("stats.out"), "data/multi-span.bin", "--stats"));

    assertThat(result.status()).isEqualTo(0);
    JsonNode stats = statsOf(result);
    assertThat(stats.get("mode").asText()).isEqualTo("download");
    assertThat(stats.get("soci_index").isNull()).isTrue();
    assertThat(stats.get("spans_fetched").asLong()).isEqualTo(0);
    assertThat(stats.get("layers_read_lazily").asLong()).isEqualTo(0);
    assertThat(stats.get("layers_downloaded").asLong()).isEqualTo(3);
    long layerBytes = 0;
    for (OciLayout.Layer layer : layers.values()) {
      layerBytes += layer.descriptor().size();
    }
    assertThat(stats.get("bytes_fetched").asLong()).isAtLeast(layerBytes);
  }

  /**
   * Counts, in the registry's access log, what one read of a 120-byte file of the top layer costs:
   * the manifests, the SOCI index, the top layer's zTOC and at most two spans of that layer, and
   * nothing of the layers below.
   */
  @Test
  void getFile_smallFile_fetchesAtMostTwoSpans() throws Exception {
    SpanRange spans = spansOf("top", SMALL_FILE);
    String topLayer = layers.get("top").descriptor().digest().toString();
    assertThat(spans.count()).isAtMost(2);
    assertThat(spans.first()).isGreaterThan(0);

    int mark = registry.requestCount();
    Processes.Result result =
        jsociInProcess(getFileArgs(sociImage, work.resolve("small.out"), SMALL_FILE, "--stats"));
    List<AccessLoggedRegistry.Request> requests = registry.requestsSince(mark);

    assertWithMessage(result.err()).that(result.status()).isEqualTo(0);
    assertThat(Files.readAllBytes(work.resolve("small.out"))).isEqualTo(expected.get(SMALL_FILE));
    long manifestBytes = 0;
    long ztocBytes = 0;
    long layerBytes = 0;
    int ztocRequests = 0;
    List<String> others = new ArrayList<>();
    for (AccessLoggedRegistry.Request request : requests) {
      if (request.path().contains("/manifests/")) {
        manifestBytes += request.bodyBytes();
      } else if (request.path().endsWith("/blobs/" + spans.ztoc().digest())) {
        ztocBytes += request.bodyBytes();
        ztocRequests++;
      } else if (request.path().endsWith("/blobs/" + topLayer)) {
        layerBytes += request.bodyBytes();
      } else if (!request.path().equals("/v2/")) {
        others.add(request.method() + " " + request.path() + " " + request.status());
      }
    }
    long sent = requests.stream().mapToLong(AccessLoggedRegistry.Request::bodyBytes).sum();

    assertThat(others).isEmpty();
    assertThat(ztocRequests).isEqualTo(1);
    assertThat(ztocBytes).isEqualTo(spans.ztoc().size());
    assertThat(layerBytes).isAtMost(spans.compressedBytes());
    assertThat(layerBytes).isGreaterThan(0);
    assertThat(sent).isAtMost(spans.ztoc().size() + spans.compressedBytes() + manifestBytes);
    JsonNode stats = statsOf(result);
    assertThat(stats.get("spans_fetched").asLong()).isEqualTo(spans.count());
    assertThat(stats.get("layers_read_lazily").asLong()).isEqualTo(1);
    assertThat(stats.get("layers_downloaded").asLong()).isEqualTo(0);
    assertThat(stats.get("requests").asLong()).isEqualTo(requests.size());
    assertThat(stats.get("bytes_fetched").asLong()).isEqualTo(sent);
  }

  // ---------------------------------------------------------------------------------------------
  // The registry

  /**
   * A docker-registry on a free loopback port that writes one access log line per request in the
   * Combined Log Format, which records the response body's size, so the test can count what the
   * registry sent. Its storage and log are under a directory that the test removes.
   */
  private static final class AccessLoggedRegistry implements AutoCloseable {
    /** Method, path, status and body bytes of a Combined Log Format line. */
    private static final Pattern LOG_LINE =
        Pattern.compile("^\\S+ \\S+ \\S+ \\[[^]]*] \"(\\S+) (\\S+) [^\"]*\" (\\d{3}) (\\d+|-) ");

    private static final long START_TIMEOUT_MILLIS = 20_000;

    /** One logged request. */
    record Request(String method, String path, int status, long bodyBytes) {}

    private final Process process;
    private final Path log;
    private final int port;
    private int markers;

    private AccessLoggedRegistry(Process process, Path log, int port) {
      this.process = process;
      this.log = log;
      this.port = port;
    }

    static AccessLoggedRegistry start(Path directory) throws IOException, InterruptedException {
      Files.createDirectories(directory);
      int port;
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = socket.getLocalPort();
      }
      Path config = directory.resolve("config.yml");
      Files.writeString(
          config,
          "version: 0.1\n"
              + "log:\n  level: warn\n  accesslog:\n    disabled: false\n"
              + "storage:\n  filesystem:\n    rootdirectory: "
              + directory.resolve("data")
              + "\n"
              + "http:\n  addr: 127.0.0.1:"
              + port
              + "\n");
      Path log = directory.resolve("registry.log");
      Process process =
          new ProcessBuilder("/usr/bin/docker-registry", "serve", config.toString())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      AccessLoggedRegistry registry = new AccessLoggedRegistry(process, log, port);
      long deadline = System.currentTimeMillis() + START_TIMEOUT_MILLIS;
      while (registry.ping("") != 200) {
        if (!process.isAlive() || System.currentTimeMillis() > deadline) {
          registry.close();
          throw new IOException("docker-registry did not start on port " + port + "; see " + log);
        }
        Thread.sleep(50);
      }
      return registry;
    }

    String host() {
      return "127.0.0.1:" + port;
    }

    private int ping(String query) {
      try {
        HttpURLConnection connection =
            (HttpURLConnection)
                URI.create("http://" + host() + "/v2/" + query).toURL().openConnection();
        connection.setConnectTimeout(1000);
        connection.setReadTimeout(2000);
        int status = connection.getResponseCode();
        connection.disconnect();
        return status;
      } catch (IOException notYet) {
        return -1;
      }
    }

    private List<Request> logged() throws IOException {
      List<Request> requests = new ArrayList<>();
      for (String line : Files.readAllLines(log, UTF_8)) {
        Matcher matcher = LOG_LINE.matcher(line);
        if (matcher.find()) {
          String bytes = matcher.group(4);
          requests.add(
              new Request(
                  matcher.group(1),
                  matcher.group(2),
                  Integer.parseInt(matcher.group(3)),
                  bytes.equals("-") ? 0 : Long.parseLong(bytes)));
        }
      }
      return requests;
    }

    /** Returns the number of requests logged so far, to pass to {@link #requestsSince}. */
    int requestCount() throws IOException, InterruptedException {
      return awaitMarker().size();
    }

    /** Returns the requests logged after the first {@code count}, without this test's markers. */
    List<Request> requestsSince(int count) throws IOException, InterruptedException {
      List<Request> all = awaitMarker();
      return all.subList(count, all.size() - 1).stream()
          .filter(request -> !request.path().startsWith("/v2/?marker="))
          .toList();
    }

    /**
     * Sends {@code GET /v2/?marker=N} and waits until the log ends with it. The registry writes a
     * line once the response is sent, so the marker's line follows the lines of every request that
     * completed before it.
     */
    private List<Request> awaitMarker() throws IOException, InterruptedException {
      String marker = "/v2/?marker=" + ++markers;
      ping("?marker=" + markers);
      for (int attempt = 0; attempt < 100; attempt++) {
        List<Request> requests = logged();
        if (!requests.isEmpty() && requests.get(requests.size() - 1).path().equals(marker)) {
          return requests;
        }
        Thread.sleep(20);
      }
      throw new IOException("the access log of docker-registry lacks " + marker + "; see " + log);
    }

    @Override
    public void close() {
      process.destroy();
      try {
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
