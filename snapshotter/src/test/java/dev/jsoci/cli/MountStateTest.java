package dev.jsoci.cli;

import static com.google.common.truth.Truth.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountStateTest {
  @TempDir Path temp;

  private MountState newState(Path base, String name) throws IOException {
    Path mountPoint = Files.createDirectories(temp.resolve("mnt").resolve(name));
    MountState state = MountState.of(base, mountPoint);
    Files.createDirectories(state.directory().getParent());
    Files.createDirectory(state.directory());
    Files.writeString(state.pidFile(), "1\n");
    return state;
  }

  @Test
  void removeState_removesCreatedEmptyBase() throws IOException {
    Path base = temp.resolve("run/mount");
    MountState state = newState(base, "a");
    Files.createFile(state.createdBaseMarker());

    ImageMount.removeState(state);

    assertThat(Files.exists(state.directory())).isFalse();
    assertThat(Files.exists(base)).isFalse();
  }

  @Test
  void removeState_keepsBaseWithOtherState() throws IOException {
    Path base = temp.resolve("run/mount");
    MountState first = newState(base, "a");
    Files.createFile(first.createdBaseMarker());
    MountState second = newState(base, "b");

    ImageMount.removeState(first);

    assertThat(Files.exists(first.directory())).isFalse();
    assertThat(Files.exists(second.pidFile())).isTrue();
  }

  @Test
  void removeState_keepsBaseItDidNotCreate() throws IOException {
    Path base = Files.createDirectories(temp.resolve("run/mount"));
    MountState state = newState(base, "a");

    ImageMount.removeState(state);

    assertThat(Files.exists(state.directory())).isFalse();
    assertThat(Files.isDirectory(base)).isTrue();
  }
}
