package dev.jsoci.cli;

import static com.google.common.truth.Truth.assertThat;

import dev.jsoci.fetcher.registry.RegistryException;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

class MainTest {
  @Test
  void describe_everyHostFailed_listsEarlierHosts() {
    RegistryException last =
        new RegistryException("GET http://registry/v2/app/manifests/1 failed: refused");
    last.addSuppressed(
        new RegistryException("GET http://mirror-a/v2/app/manifests/1 failed: timeout"));
    last.addSuppressed(
        new RegistryException("GET http://mirror-b/v2/app/manifests/1 returned 404"));

    assertThat(Main.describe(last))
        .isEqualTo(
            "GET http://registry/v2/app/manifests/1 failed: refused (tried before: GET"
                + " http://mirror-a/v2/app/manifests/1 failed: timeout; GET"
                + " http://mirror-b/v2/app/manifests/1 returned 404)");
  }

  @Test
  void describe_otherSuppressedFailure_isLeftOut() {
    IOException failure = new IOException("cannot write /tmp/out.json");
    failure.addSuppressed(new IOException("cannot close /tmp/out.json"));

    assertThat(Main.describe(failure)).isEqualTo("cannot write /tmp/out.json");
  }

  @Test
  void describe_missingFile_namesIt() {
    assertThat(Main.describe(new NoSuchFileException("/tmp/missing.json")))
        .isEqualTo("file not found: /tmp/missing.json");
  }

  @Test
  void describe_bareFileErrors_nameTheError() {
    assertThat(Main.describe(new FileAlreadyExistsException("/tmp/out")))
        .isEqualTo("already exists: /tmp/out");
    assertThat(Main.describe(new DirectoryNotEmptyException("/tmp/out")))
        .isEqualTo("directory not empty: /tmp/out");
  }
}
