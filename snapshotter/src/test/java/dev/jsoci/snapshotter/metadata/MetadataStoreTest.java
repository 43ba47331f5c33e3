package dev.jsoci.snapshotter.metadata;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.snapshotter.errdefs.InvalidArgumentException;
import dev.jsoci.snapshotter.errdefs.NotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetadataStoreTest {
  private static final Instant T0 = Instant.parse("2026-01-02T03:04:05.123456789Z");
  private static final Instant T1 = T0.plusSeconds(60);

  @TempDir Path directory;

  private MetadataStore open() throws IOException {
    return MetadataStore.open(directory.resolve("metadata.db"));
  }

  @Test
  void useNativeLibraryDirectory_removesOldCopies() throws Exception {
    String before = System.getProperty(MetadataStore.NATIVE_DIRECTORY_PROPERTY);
    Path nativeDirectory = Files.createDirectory(directory.resolve("native"));
    Path copy = Files.writeString(nativeDirectory.resolve("sqlite-3-a-libsqlitejdbc.so"), "x");
    Path lock = Files.writeString(nativeDirectory.resolve("sqlite-3-a-libsqlitejdbc.so.lck"), "");
    Path other = Files.writeString(nativeDirectory.resolve("other.txt"), "kept");
    System.clearProperty(MetadataStore.NATIVE_DIRECTORY_PROPERTY);
    try {
      MetadataStore.useNativeLibraryDirectory(nativeDirectory);

      assertThat(System.getProperty(MetadataStore.NATIVE_DIRECTORY_PROPERTY))
          .isEqualTo(nativeDirectory.toString());
      assertThat(Files.exists(copy)).isFalse();
      assertThat(Files.exists(lock)).isFalse();
      assertThat(Files.readString(other)).isEqualTo("kept");
    } finally {
      restoreProperty(before);
    }
  }

  @Test
  void useNativeLibraryDirectory_keepsAPropertySetBefore() throws Exception {
    String before = System.getProperty(MetadataStore.NATIVE_DIRECTORY_PROPERTY);
    Path nativeDirectory = directory.resolve("native");
    System.setProperty(MetadataStore.NATIVE_DIRECTORY_PROPERTY, "/var/lib/elsewhere");
    try {
      MetadataStore.useNativeLibraryDirectory(nativeDirectory);

      assertThat(System.getProperty(MetadataStore.NATIVE_DIRECTORY_PROPERTY))
          .isEqualTo("/var/lib/elsewhere");
      assertThat(Files.exists(nativeDirectory)).isFalse();
    } finally {
      restoreProperty(before);
    }
  }

  private static void restoreProperty(@Nullable String value) {
    if (value == null) {
      System.clearProperty(MetadataStore.NATIVE_DIRECTORY_PROPERTY);
    } else {
      System.setProperty(MetadataStore.NATIVE_DIRECTORY_PROPERTY, value);
    }
  }

  @Test
  void write_bodyThatThrows_rollsBackEverything() throws Exception {
    try (MetadataStore store = open()) {
      IOException e =
          assertThrows(
              IOException.class,
              () ->
                  store.write(
                      tx -> {
                        tx.create(Kind.ACTIVE, "k1", "", Map.of("a", "b"), T0);
                        throw new IOException("rename failed");
                      }));

      Optional<SnapshotRecord> found = store.read(tx -> tx.find("k1"));
      List<SnapshotRecord> records = store.read(tx -> tx.records());
      assertThat(e).hasMessageThat().isEqualTo("rename failed");
      assertThat(found).isEmpty();
      assertThat(records).isEmpty();
    }
  }

  @Test
  void records_surviveReopening() throws Exception {
    try (MetadataStore store = open()) {
      store.write(tx -> tx.create(Kind.ACTIVE, "k1", "", Map.of("a", "b"), T0));
      store.write(tx -> tx.commitActive("k1", "layer", new Usage(4096, 2), Map.of("c", "d"), T1));
      store.write(tx -> tx.create(Kind.VIEW, "v", "layer", Map.of(), T1));
    }

    try (MetadataStore store = open()) {
      SnapshotRecord layer = store.read(tx -> tx.get("layer"));
      SnapshotRecord view = store.read(tx -> tx.get("v"));

      assertThat(layer.id()).isEqualTo(1);
      assertThat(layer.info())
          .isEqualTo(new SnapshotInfo("layer", "", Kind.COMMITTED, T1, T1, Map.of("c", "d")));
      assertThat(layer.usage()).isEqualTo(new Usage(4096, 2));
      assertThat(view.parentIds()).containsExactly(1L);
      assertThat(view.info().parent()).isEqualTo("layer");
      assertThat(view.info().createdAt()).isEqualTo(T1);
    }
  }

  @Test
  void parentIds_listNearestFirst() throws Exception {
    try (MetadataStore store = open()) {
      for (int i = 1; i <= 3; i++) {
        String parent = i == 1 ? "" : "layer-" + (i - 1);
        String key = "k" + i;
        String name = "layer-" + i;
        store.write(tx -> tx.create(Kind.ACTIVE, key, parent, Map.of(), T0));
        store.write(tx -> tx.commitActive(key, name, Usage.ZERO, Map.of(), T0));
      }
      store.write(tx -> tx.create(Kind.ACTIVE, "top", "layer-3", Map.of(), T0));

      assertThat(store.read(tx -> tx.get("top")).parentIds()).containsExactly(3L, 2L, 1L).inOrder();
      assertThat(store.read(tx -> tx.records()).get(3).parentIds())
          .containsExactly(3L, 2L, 1L)
          .inOrder();
    }
  }

  @Test
  void emptyLabelValues_areNeverStored() throws Exception {
    try (MetadataStore store = open()) {
      store.write(tx -> tx.create(Kind.ACTIVE, "k1", "", Map.of("a", "", "b", "1"), T0));

      assertThat(store.read(tx -> tx.get("k1")).info().labels()).containsExactly("b", "1");
    }
  }

  @Test
  void update_fieldMasks() throws Exception {
    try (MetadataStore store = open()) {
      store.write(tx -> tx.create(Kind.ACTIVE, "k", "", Map.of("a", "1", "b", "2"), T0));
      SnapshotInfo request =
          new SnapshotInfo("k", "ignored", Kind.VIEW, T1, T1, Map.of("a", "10", "c", "3"));

      SnapshotInfo one = store.write(tx -> tx.update(request, List.of("labels.a"), T1));
      SnapshotInfo removed = store.write(tx -> tx.update(request, List.of("labels.b"), T1));
      SnapshotInfo all = store.write(tx -> tx.update(request, List.of("labels"), T1));

      assertThat(one.labels()).containsExactly("a", "10", "b", "2");
      assertThat(one.updatedAt()).isEqualTo(T1);
      assertThat(one.createdAt()).isEqualTo(T0);
      assertThat(one.kind()).isEqualTo(Kind.ACTIVE);
      assertThat(one.parent()).isEmpty();
      assertThat(removed.labels()).containsExactly("a", "10");
      assertThat(all.labels()).containsExactly("a", "10", "c", "3");
    }
  }

  @Test
  void update_emptyMask_replacesAllLabels() throws Exception {
    try (MetadataStore store = open()) {
      store.write(tx -> tx.create(Kind.ACTIVE, "k", "", Map.of("a", "1"), T0));
      SnapshotInfo request = new SnapshotInfo("k", "", Kind.ACTIVE, T1, T1, Map.of("z", "9"));

      SnapshotInfo updated = store.write(tx -> tx.update(request, List.of(), T1));

      assertThat(updated.labels()).containsExactly("z", "9");
    }
  }

  @Test
  void update_errors() throws Exception {
    try (MetadataStore store = open()) {
      store.write(tx -> tx.create(Kind.ACTIVE, "k", "", Map.of("a", "1"), T0));
      SnapshotInfo missing = new SnapshotInfo("nope", "", Kind.ACTIVE, T1, T1, Map.of());
      SnapshotInfo existing = new SnapshotInfo("k", "", Kind.ACTIVE, T1, T1, Map.of());

      assertThrows(
          NotFoundException.class, () -> store.write(tx -> tx.update(missing, List.of(), T1)));
      InvalidArgumentException e =
          assertThrows(
              InvalidArgumentException.class,
              () -> store.write(tx -> tx.update(existing, List.of("parent"), T1)));

      assertThat(e)
          .hasMessageThat()
          .isEqualTo("cannot update \"parent\" field on snapshot \"k\": invalid argument");
      assertThat(store.read(tx -> tx.get("k")).info().labels()).containsExactly("a", "1");
    }
  }

  @Test
  void create_labelTooLong_isInvalidArgument() throws Exception {
    try (MetadataStore store = open()) {
      Map<String, String> labels = Map.of("key", "v".repeat(4094));

      InvalidArgumentException e =
          assertThrows(
              InvalidArgumentException.class,
              () -> store.write(tx -> tx.create(Kind.ACTIVE, "k", "", labels, T0)));

      assertThat(e)
          .hasMessageThat()
          .isEqualTo(
              "label key and value length (4097 bytes) greater than maximum size (4096 bytes)"
                  + " for label key: invalid argument");
    }
  }

  @Test
  void commitActive_replacesLabelsAndKeepsTheId() throws Exception {
    try (MetadataStore store = open()) {
      store.write(tx -> tx.create(Kind.ACTIVE, "k", "", Map.of("old", "1"), T0));

      SnapshotRecord committed =
          store.write(tx -> tx.commitActive("k", "name", Usage.ZERO, Map.of("new", "2"), T1));

      assertThat(committed.id()).isEqualTo(1);
      assertThat(committed.info().labels()).containsExactly("new", "2");
      Optional<SnapshotRecord> active = store.read(tx -> tx.find("k"));
      assertThat(active).isEmpty();
    }
  }
}
