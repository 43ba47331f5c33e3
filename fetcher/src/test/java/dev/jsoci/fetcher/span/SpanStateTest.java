package dev.jsoci.fetcher.span;

import static com.google.common.truth.Truth.assertWithMessage;
import static dev.jsoci.fetcher.span.SpanState.FAILED;
import static dev.jsoci.fetcher.span.SpanState.FETCHING;
import static dev.jsoci.fetcher.span.SpanState.NOT_REQUESTED;
import static dev.jsoci.fetcher.span.SpanState.READY;

import java.util.Set;
import org.junit.jupiter.api.Test;

class SpanStateTest {
  /** Every allowed transition as "FROM->TO"; all other pairs are forbidden. */
  private static final Set<String> ALLOWED =
      Set.of(
          "NOT_REQUESTED->FETCHING",
          "FETCHING->READY",
          "FETCHING->FAILED",
          "FAILED->FETCHING",
          "READY->FETCHING");

  @Test
  void canMoveTo_everyPair_matchesTable() {
    for (SpanState from : SpanState.values()) {
      for (SpanState to : SpanState.values()) {
        String pair = from + "->" + to;
        assertWithMessage(pair).that(from.canMoveTo(to)).isEqualTo(ALLOWED.contains(pair));
      }
    }
  }

  @Test
  void canMoveTo_onlyFetchingLeadsToReady() {
    assertWithMessage("NOT_REQUESTED->READY").that(NOT_REQUESTED.canMoveTo(READY)).isFalse();
    assertWithMessage("FAILED->READY").that(FAILED.canMoveTo(READY)).isFalse();
    assertWithMessage("FETCHING->READY").that(FETCHING.canMoveTo(READY)).isTrue();
  }
}
