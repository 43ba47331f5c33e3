package dev.jsoci.snapshotter.metadata;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.snapshotter.errdefs.InvalidArgumentException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SnapshotFilterTest {
  private static final String CHAIN = "sha256:" + "c".repeat(64);
  private static final SnapshotInfo COMMITTED =
      info(
          CHAIN,
          "default/3/sha256:parent",
          Kind.COMMITTED,
          Map.of("containerd.io/snapshot.ref", CHAIN, "team", "a.b"));
  private static final SnapshotInfo ACTIVE =
      info("default/4/extract-1 " + CHAIN, "", Kind.ACTIVE, Map.of());
  private static final SnapshotInfo VIEW = info("view", CHAIN, Kind.VIEW, Map.of("team", "b"));

  private static SnapshotInfo info(
      String name, String parent, Kind kind, Map<String, String> labels) {
    return new SnapshotInfo(name, parent, kind, Instant.EPOCH, Instant.EPOCH, labels);
  }

  private static List<SnapshotInfo> select(String... filters) throws InvalidArgumentException {
    SnapshotFilter filter = SnapshotFilter.parseAll(List.of(filters));
    return List.of(COMMITTED, ACTIVE, VIEW).stream().filter(filter::matches).toList();
  }

  @Test
  void noFilters_matchEverything() throws Exception {
    assertThat(select()).containsExactly(COMMITTED, ACTIVE, VIEW);
    assertThat(select("")).containsExactly(COMMITTED, ACTIVE, VIEW);
  }

  @Test
  void containerdRemoteSnapshotFilter_matchesTargetAndParent() throws Exception {
    String filter =
        "labels.\"containerd.io/snapshot.ref\"==" + CHAIN + ",parent==\"default/3/sha256:parent\"";

    assertThat(select(filter)).containsExactly(COMMITTED);
    assertThat(select("labels.\"containerd.io/snapshot.ref\"==" + CHAIN + ",parent==\"\""))
        .isEmpty();
  }

  @Test
  void emptyQuotedParent_matchesSnapshotsWithoutParent() throws Exception {
    assertThat(select("parent==\"\"")).containsExactly(ACTIVE);
  }

  @Test
  void kindAndName() throws Exception {
    assertThat(select("kind==committed")).containsExactly(COMMITTED);
    assertThat(select("kind==view")).containsExactly(VIEW);
    assertThat(select("kind!=active")).containsExactly(COMMITTED, VIEW);
    assertThat(select("name==view")).containsExactly(VIEW);
  }

  @Test
  void commaIsAnd_separateFiltersAreOr() throws Exception {
    assertThat(select("kind==committed,labels.team==b")).isEmpty();
    assertThat(select("kind==committed", "labels.team==b")).containsExactly(COMMITTED, VIEW);
  }

  @Test
  void presence() throws Exception {
    assertThat(select("labels.team")).containsExactly(COMMITTED, VIEW);
    assertThat(select("labels.\"containerd.io/snapshot.ref\"")).containsExactly(COMMITTED);
    assertThat(select("labels.nope")).isEmpty();
  }

  @Test
  void notEqual_matchesAbsentFields() throws Exception {
    assertThat(select("labels.team!=b")).containsExactly(COMMITTED, ACTIVE);
  }

  @Test
  void regularExpressions_searchAnywhere() throws Exception {
    assertThat(select("name~=extract")).containsExactly(ACTIVE);
    assertThat(select("name~=/^view$/")).containsExactly(VIEW);
    // As in Go string literals, a backslash in the expression is written twice.
    assertThat(select("labels.team~=|a\\\\.b|")).containsExactly(COMMITTED);
    assertThat(select("labels.team~=|^a.$|")).isEmpty();
  }

  @Test
  void valuesWithDotsAndColons_needNoQuotes() throws Exception {
    assertThat(select("labels.team==a.b")).containsExactly(COMMITTED);
    assertThat(select("name==" + CHAIN)).containsExactly(COMMITTED);
  }

  @Test
  void spacesAroundOperators_areSkipped() throws Exception {
    assertThat(select("name == view")).containsExactly(VIEW);
  }

  @Test
  void quotedValues_decodeGoEscapes() throws Exception {
    SnapshotInfo odd = info("a\"b\tc\u00e9", "", Kind.ACTIVE, Map.of());
    SnapshotFilter filter = SnapshotFilter.parseAll(List.of("name==\"a\\\"b\\tc\\u00e9\""));

    assertThat(filter.matches(odd)).isTrue();
  }

  @Test
  void dottedLabelKeysWithoutQuotes_joinTheRestOfThePath() throws Exception {
    SnapshotInfo dotted = info("x", "", Kind.ACTIVE, Map.of("a.b.c", "1"));

    assertThat(SnapshotFilter.parseAll(List.of("labels.a.b.c==1")).matches(dotted)).isTrue();
  }

  @Test
  void parseErrors_areInvalidArgumentsNamingTheFilter() {
    assertInvalid("name==", "invalid filter \"name==\" at position 6: expected value or quoted");
    assertInvalid(
        "name=view", "invalid filter \"name=view\" at position 4: unsupported operator \"=\"");
    assertInvalid("name==a b", "invalid filter \"name==a b\" at position 7: unexpected input:  ");
    assertInvalid(
        ",name==a", "invalid filter \",name==a\" at position 0: expected field or quoted");
    assertInvalid(
        "labels.\"unterminated==a",
        "invalid filter \"labels.\"unterminated==a\" at position 7: quoted literal not terminated");
    assertInvalid(
        "name==/view/", "invalid filter \"name==/view/\" at position 6: invalid quote encountered");
    assertInvalid(
        "name~=/[/",
        "invalid filter \"name~=/[/\" at position 8: invalid regular expression: "
            + "Unclosed character class");
    assertInvalid(
        "name==\"\\q\"",
        "invalid filter \"name==\"\\q\"\" at position 6: unquoting failed: quote syntax error");
  }

  private static void assertInvalid(String filter, String message) {
    InvalidArgumentException e =
        assertThrows(
            InvalidArgumentException.class, () -> SnapshotFilter.parseAll(List.of(filter)));
    assertThat(e).hasMessageThat().isEqualTo(message + ": invalid argument");
  }
}
