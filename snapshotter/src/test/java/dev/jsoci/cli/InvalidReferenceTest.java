package dev.jsoci.cli;

import static com.google.common.truth.Truth.assertThat;
import static com.google.common.truth.Truth.assertWithMessage;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Runs every command that takes an image reference with invalid references: each must exit with the
 * usage status 2, name the reference on stderr and write nothing.
 */
class InvalidReferenceTest {
  /** Invalid registry references, each with a part of the message that explains it. */
  private static final List<List<String>> INVALID_REFERENCES =
      List.of(
          List.of("127.0.0.1:5000/App:v1", "invalid image reference \"127.0.0.1:5000/App:v1\""),
          List.of("127.0.0.1:5000/app:", "invalid image reference \"127.0.0.1:5000/app:\""),
          List.of(
              "127.0.0.1:5000/app@md5:0123456789abcdef0123456789abcdef",
              "invalid image reference \"127.0.0.1:5000/app@md5:"),
          List.of(
              "127.0.0.1:5000/app@sha256:0123",
              "invalid image reference \"127.0.0.1:5000/app@sha256:0123\""),
          List.of("", "invalid image reference \"\""));

  @TempDir Path temp;

  /** Output of one command run. */
  private record Run(int status, String out, String err) {}

  private static Run jsoci(List<String> args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = Main.newCommandLine();
    commandLine.setOut(new PrintWriter(out));
    commandLine.setErr(new PrintWriter(err));
    int status = commandLine.execute(args.toArray(String[]::new));
    return new Run(status, out.toString(), err.toString());
  }

  /** Returns every command line that takes {@code reference} as an image to read or write. */
  private List<List<String>> commands(String reference) {
    Path mountPoint = temp.resolve("mnt");
    return List.of(
        List.of("convert", reference, "oci:" + temp.resolve("out") + ":v1"),
        List.of("convert", "oci:" + temp.resolve("layout") + ":v1", reference),
        List.of("index", "info", reference),
        List.of("image", "get-file", "--out", temp.resolve("file").toString(), reference, "/x"),
        List.of(
            "mount",
            "--state-dir",
            temp.resolve("state").toString(),
            reference,
            mountPoint.toString()),
        List.of("rpull", "--snapshotter-address", temp.resolve("none.sock").toString(), reference));
  }

  @Test
  void invalidReferences_areUsageErrors() throws Exception {
    Files.createDirectories(temp.resolve("mnt"));
    Files.createDirectories(temp.resolve("layout"));
    for (List<String> invalid : INVALID_REFERENCES) {
      for (List<String> command : commands(invalid.get(0))) {
        Run run = jsoci(command);
        String what = String.join(" ", command);

        assertWithMessage("status of %s: %s", what, run.err()).that(run.status()).isEqualTo(2);
        assertWithMessage("stderr of %s", what).that(run.err()).contains(invalid.get(1));
        assertWithMessage("stdout of %s", what).that(run.out()).isEmpty();
        assertWithMessage("files after %s", what).that(listTemp()).containsExactly("layout", "mnt");
      }
    }
  }

  @Test
  void layoutSourceWithoutDirectory_isUsageError() throws Exception {
    Path missing = temp.resolve("missing");
    List<List<String>> commands =
        List.of(
            List.of("convert", "oci:" + missing + ":v1", "oci:" + temp.resolve("out") + ":v1"),
            List.of("index", "info", "oci:" + missing + ":v1"),
            List.of("index", "info", "oci:" + missing));

    for (List<String> command : commands) {
      Run run = jsoci(command);
      String what = String.join(" ", command);

      assertWithMessage("status of %s: %s", what, run.err()).that(run.status()).isEqualTo(2);
      assertWithMessage("stderr of %s", what)
          .that(run.err())
          .contains("OCI layout directory " + missing + " not found");
      assertWithMessage("files after %s", what).that(listTemp()).isEmpty();
    }
  }

  @Test
  void getFileFromLayout_isUsageError() throws Exception {
    Files.createDirectories(temp.resolve("layout"));

    Run run =
        jsoci(
            List.of(
                "image",
                "get-file",
                "--out",
                temp.resolve("file").toString(),
                "oci:" + temp.resolve("layout") + ":v1",
                "/x"));

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.err())
        .contains("image get-file reads images from registries, not OCI image layouts");
    assertThat(listTemp()).containsExactly("layout");
  }

  @Test
  void layoutOnlyPrefix_isUsageError() throws Exception {
    Run run = jsoci(List.of("index", "info", "oci:"));

    assertThat(run.status()).isEqualTo(2);
    assertThat(run.err()).contains("invalid OCI layout location \"oci:\"");
  }

  private List<String> listTemp() throws Exception {
    List<String> names = new ArrayList<>();
    try (Stream<Path> entries = Files.list(temp)) {
      entries.forEach(entry -> names.add(entry.getFileName().toString()));
    }
    return names;
  }
}
