package dev.jsoci.cli;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Runs {@code jsoci ztoc} as a user would, on layers made by GNU tar, gzip and pigz, and checks
 * every regular file against what {@code tar -x} extracts.
 */
class ZtocCommandTest {
  @TempDir static Path temp;
  private static Path tree;

  /** Output of one command run. */
  record Run(int status, String out, String err) {}

  static Run jsoci(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = Main.newCommandLine();
    commandLine.setOut(new PrintWriter(out));
    commandLine.setErr(new PrintWriter(err));
    int status = commandLine.execute(args);
    return new Run(status, out.toString(), err.toString());
  }

  /** Runs {@code jsoci ztoc get-file} of {@code path} into {@code out}. */
  private static Run getFile(Path ztoc, Path layer, Path out, String path) {
    return jsoci(
        "ztoc",
        "get-file",
        "--ztoc",
        ztoc.toString(),
        "--layer",
        layer.toString(),
        "--out",
        out.toString(),
        path);
  }

  static void run(Path directory, String... command) throws IOException, InterruptedException {
    Process process =
        new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertWithMessage(String.join(" ", command) + ": " + output)
        .that(process.waitFor())
        .isEqualTo(0);
  }

  static boolean installed(String program) {
    return Stream.of("/usr/bin/", "/bin/", "/usr/sbin/")
        .anyMatch(directory -> Files.isExecutable(Path.of(directory + program)));
  }

  /** A tree with every kind of entry: long and non-ASCII names, links, a fifo and a device. */
  @BeforeAll
  static void makeTree() throws Exception {
    assumeTrue(installed("tar"), "GNU tar is not installed");
    tree = temp.resolve("tree");
    Random random = new Random(11);
    Path deep = tree.resolve("usr/share/" + "long-directory-name-".repeat(8) + "/leaf");
    Files.createDirectories(deep);
    Files.createDirectories(tree.resolve("etc"));
    Files.createDirectories(tree.resolve("empty-directory"));
    for (int i = 0; i < 40; i++) {
      byte[] data =
          new byte[i % 7 == 0 ? 300_000 + random.nextInt(900_000) : random.nextInt(20_000)];
      if (i % 3 == 0) {
        random.nextBytes(data);
      } else {
        for (int j = 0; j < data.length; j++) {
          data[j] = (byte) ("layer text " + i).charAt(j % 12 % ("layer text " + i).length());
        }
      }
      Path parent = i % 2 == 0 ? deep : tree.resolve("etc");
      Files.write(parent.resolve("file-" + i + ".dat"), data);
    }
    Files.writeString(tree.resolve("etc/caf\u00e9-\u00fcml\u00e4ut.conf"), "non-ascii name\n");
    Files.writeString(tree.resolve("empty-file"), "");
    Files.createLink(tree.resolve("etc/hard-link"), tree.resolve("etc/file-1.dat"));
    Files.createSymbolicLink(tree.resolve("etc/symbolic-link"), Path.of("file-3.dat"));
    Files.createSymbolicLink(tree.resolve("etc-link"), Path.of("etc"));
    Files.createSymbolicLink(tree.resolve("etc-link-link"), Path.of("/etc-link"));
    run(tree, "mkfifo", "etc/fifo");
    if (installed("mknod")) {
      run(tree, "mknod", "etc/null-device", "c", "1", "3");
    }
  }

  private static List<Path> extractRegularFiles(Path layer, String name) throws Exception {
    Path extracted = temp.resolve("extracted-" + name);
    Files.createDirectories(extracted);
    run(extracted, "tar", "-xf", layer.toString());
    List<Path> files = new ArrayList<>();
    try (Stream<Path> paths = Files.walk(extracted)) {
      paths.filter(Files::isRegularFile).forEach(path -> files.add(extracted.relativize(path)));
    }
    assertThat(files.size()).isAtLeast(40);
    return files;
  }

  private static void assertGetFileMatchesTar(Path layer, String name, long spanSize)
      throws Exception {
    Path ztoc = temp.resolve(name + ".ztoc");
    Run build =
        jsoci(
            "ztoc",
            "build",
            "--span-size",
            Long.toString(spanSize),
            "--out",
            ztoc.toString(),
            layer.toString());
    assertWithMessage(build.err()).that(build.status()).isEqualTo(0);
    String[] lines = build.out().strip().split("\n");
    assertThat(lines[lines.length - 1]).matches("sha256:[0-9a-f]{64}");
    assertThat(lines[lines.length - 1]).isEqualTo(ZtocCommand.sha256(Files.readAllBytes(ztoc)));

    Path extracted = temp.resolve("extracted-" + name);
    for (Path file : extractRegularFiles(layer, name)) {
      Path out = temp.resolve("out-" + name);
      Run get = getFile(ztoc, layer, out, file.toString());
      assertWithMessage(name + " " + file + ": " + get.err()).that(get.status()).isEqualTo(0);
      assertWithMessage(name + " " + file)
          .that(Files.readAllBytes(out))
          .isEqualTo(Files.readAllBytes(extracted.resolve(file)));
    }
  }

  private static Path tar(String format, String... options) throws Exception {
    Path layer = temp.resolve("layer-" + format + ".tar");
    List<String> command = new ArrayList<>(List.of("tar", "--format=" + format, "--sort=name"));
    command.addAll(List.of(options));
    command.addAll(List.of("-cf", layer.toString(), "."));
    run(tree, command.toArray(String[]::new));
    return layer;
  }

  private static Path compress(Path tar, String name, String shellCommand) throws Exception {
    Path layer = temp.resolve(name);
    run(
        temp,
        "sh",
        "-c",
        shellCommand.replace("IN", tar.toString()).replace("OUT", layer.toString()));
    return layer;
  }

  @Test
  void getFile_gnuFormatGzip_matchesTar() throws Exception {
    Path layer = compress(tar("gnu"), "gnu.tar.gz", "gzip -6 -c IN > OUT");
    assertGetFileMatchesTar(layer, "gnu-gzip", 65536);
  }

  @Test
  void getFile_paxFormatWithXattrsGzip_matchesTar() throws Exception {
    Path layer = compress(tar("posix", "--xattrs"), "posix.tar.gz", "gzip -1 -c IN > OUT");
    assertGetFileMatchesTar(layer, "posix-gzip", 1024);
  }

  @Test
  void getFile_pigzSmallBlocks_matchesTar() throws Exception {
    assumeTrue(installed("pigz"), "pigz is not installed (Debian package pigz)");
    Path layer = compress(tar("gnu"), "pigz.tar.gz", "pigz -b 128 -c IN > OUT");
    assertGetFileMatchesTar(layer, "pigz", 100_000);
  }

  @Test
  void getFile_multiMemberGzip_matchesTar() throws Exception {
    Path tar = tar("gnu");
    long half = Files.size(tar) / 2;
    Path layer =
        compress(
            tar,
            "two-members.tar.gz",
            "head -c "
                + half
                + " IN | gzip -c > OUT && tail -c +"
                + (half + 1)
                + " IN | gzip -9 -c >> OUT");
    assertGetFileMatchesTar(layer, "two-members", 4 << 20);
  }

  @Test
  void getFile_plainTar_matchesTar() throws Exception {
    assertGetFileMatchesTar(tar("posix"), "plain", 65536);
  }

  @Test
  void info_printsEveryField() throws Exception {
    Path layer = compress(tar("gnu"), "info.tar.gz", "gzip -c IN > OUT");
    Path ztoc = temp.resolve("info.ztoc");
    assertThat(
            jsoci(
                    "ztoc",
                    "build",
                    "--span-size",
                    "65536",
                    "--out",
                    ztoc.toString(),
                    layer.toString())
                .status())
        .isEqualTo(0);

    Run info = jsoci("ztoc", "info", ztoc.toString());

    assertThat(info.status()).isEqualTo(0);
    JsonNode json = new ObjectMapper().readTree(info.out());
    assertThat(json.get("version").asText()).isEqualTo("0.9");
    assertThat(json.get("build_tool").asText()).isEqualTo(JsociVersion.buildToolIdentifier());
    assertThat(json.get("compression").asText()).isEqualTo("gzip");
    assertThat(json.get("compressed_archive_size").asLong()).isEqualTo(Files.size(layer));
    int spans = json.get("max_span_id").asInt() + 1;
    assertThat(spans).isGreaterThan(1);
    assertThat(json.get("span_digests").size()).isEqualTo(spans);
    assertThat(json.get("checkpoints").size()).isEqualTo(spans);
    assertThat(json.get("checkpoints").get(0).get("out").asLong()).isEqualTo(0);
    // gzip stores the input's name (FNAME), so the first checkpoint follows a longer header.
    assertThat(json.get("checkpoints").get(0).get("in").asLong())
        .isEqualTo(10 + "layer-gnu.tar".length() + 1);
    JsonNode symlink = null;
    for (JsonNode file : json.get("files")) {
      if (file.get("name").asText().equals("./etc/symbolic-link")) {
        symlink = file;
      }
    }
    assertThat(symlink).isNotNull();
    assertThat(symlink.get("type").asText()).isEqualTo("symlink");
    assertThat(symlink.get("linkname").asText()).isEqualTo("file-3.dat");
  }

  @Test
  void getFile_followsLinksInsideTheLayer() throws Exception {
    Path layer = tar("gnu");
    Path ztoc = temp.resolve("links.ztoc");
    assertThat(jsoci("ztoc", "build", "--out", ztoc.toString(), layer.toString()).status())
        .isEqualTo(0);
    for (String[] pair :
        new String[][] {
          {"etc/hard-link", "etc/file-1.dat"},
          {"/etc/symbolic-link", "etc/file-3.dat"},
          {"etc-link/file-3.dat", "etc/file-3.dat"},
          {"etc-link-link/symbolic-link", "etc/file-3.dat"}
        }) {
      Path out = temp.resolve("link-out");
      Run get = getFile(ztoc, layer, out, pair[0]);
      assertWithMessage(get.err()).that(get.status()).isEqualTo(0);
      assertThat(Files.readAllBytes(out)).isEqualTo(Files.readAllBytes(tree.resolve(pair[1])));
    }
  }

  @Test
  void badInput_failsWithOneLineNamingTheValue() throws Exception {
    Path layer = tar("gnu");
    Path ztoc = temp.resolve("bad-input.ztoc");
    assertThat(jsoci("ztoc", "build", "--out", ztoc.toString(), layer.toString()).status())
        .isEqualTo(0);
    Path text = temp.resolve("text.txt");
    Files.writeString(text, "not a layer\n".repeat(100));
    Path missing = temp.resolve("missing.tar.gz");

    List<String[]> cases =
        List.of(
            new String[] {"jsoci: file not found: " + missing, "ztoc", "build", missing.toString()},
            new String[] {
              "jsoci: layer " + text + " at byte 0: not a gzip or tar layer",
              "ztoc",
              "build",
              text.toString()
            },
            new String[] {
              "jsoci: path \"etc/nope\" is not in the layer",
              "ztoc",
              "get-file",
              "--ztoc",
              ztoc.toString(),
              "--layer",
              layer.toString(),
              "etc/nope"
            },
            new String[] {
              "jsoci: path \"etc\" is a dir, not a regular file",
              "ztoc",
              "get-file",
              "--ztoc",
              ztoc.toString(),
              "--layer",
              layer.toString(),
              "etc"
            },
            new String[] {
              "jsoci: layer "
                  + text
                  + ": blob is 1200 bytes but the ztoc "
                  + ztoc
                  + " describes a layer of "
                  + Files.size(layer)
                  + " bytes",
              "ztoc",
              "get-file",
              "--ztoc",
              ztoc.toString(),
              "--layer",
              text.toString(),
              "etc/file-1.dat"
            });
    for (String[] testCase : cases) {
      String[] args = java.util.Arrays.copyOfRange(testCase, 1, testCase.length);
      Run result = jsoci(args);
      assertWithMessage(String.join(" ", args)).that(result.status()).isEqualTo(1);
      assertWithMessage(String.join(" ", args)).that(result.err().strip()).isEqualTo(testCase[0]);
    }

    Run corrupt = jsoci("ztoc", "info", layer.toString());
    assertThat(corrupt.status()).isEqualTo(1);
    assertThat(corrupt.err()).startsWith("jsoci: invalid ztoc " + layer + ": ");
    assertThat(corrupt.err().strip().lines().count()).isEqualTo(1);

    Run zeroSpan = jsoci("ztoc", "build", "--span-size", "0", layer.toString());
    assertThat(zeroSpan.status()).isEqualTo(2);
    assertThat(zeroSpan.err().strip())
        .isEqualTo(
            "jsoci: invalid --span-size 0: must be at least 1 (see 'jsoci ztoc build --help')");
  }

  @Test
  void badPaths_areUsageErrors() throws Exception {
    Path layer = Files.copy(tar("gnu"), temp.resolve("kept.tar.gz"));
    byte[] layerBytes = Files.readAllBytes(layer);
    Path ztoc = temp.resolve("kept.ztoc");
    assertThat(jsoci("ztoc", "build", "--out", ztoc.toString(), layer.toString()).status())
        .isEqualTo(0);
    byte[] ztocBytes = Files.readAllBytes(ztoc);
    Path missingDirectory = temp.resolve("no-such-directory");

    List<String[]> cases =
        List.of(
            new String[] {
              "--out " + layer + " is the input file " + layer,
              "ztoc",
              "build",
              "--out",
              layer.toString(),
              layer.toString()
            },
            new String[] {
              "--out " + ztoc + " is the input file " + ztoc,
              "ztoc",
              "get-file",
              "--ztoc",
              ztoc.toString(),
              "--layer",
              layer.toString(),
              "--out",
              ztoc.toString(),
              "etc/file-1.dat"
            },
            new String[] {
              "--out " + temp + " is a directory; give a file path",
              "ztoc",
              "build",
              "--out",
              temp.toString(),
              layer.toString()
            },
            new String[] {
              "--out "
                  + missingDirectory.resolve("x.ztoc")
                  + ": directory "
                  + missingDirectory
                  + " does not exist; create it first",
              "ztoc",
              "build",
              "--out",
              missingDirectory.resolve("x.ztoc").toString(),
              layer.toString()
            },
            new String[] {
              "ZTOC " + temp + " is a directory; give a file", "ztoc", "info", temp.toString()
            },
            new String[] {
              "LAYER /dev/zero is a device or socket, not a file; give a file",
              "ztoc",
              "build",
              "--out",
              temp.resolve("zero.ztoc").toString(),
              "/dev/zero"
            },
            new String[] {
              "--layer /dev/urandom is a device or socket, not a file; give a file",
              "ztoc",
              "get-file",
              "--ztoc",
              ztoc.toString(),
              "--layer",
              "/dev/urandom",
              "etc/file-1.dat"
            });
    for (String[] testCase : cases) {
      String[] args = java.util.Arrays.copyOfRange(testCase, 1, testCase.length);
      Run result = jsoci(args);

      assertWithMessage(String.join(" ", args)).that(result.status()).isEqualTo(2);
      assertWithMessage(String.join(" ", args)).that(result.err()).contains(testCase[0]);
    }
    assertThat(Files.readAllBytes(layer)).isEqualTo(layerBytes);
    assertThat(Files.readAllBytes(ztoc)).isEqualTo(ztocBytes);
    assertThat(Files.exists(missingDirectory)).isFalse();
  }
}
