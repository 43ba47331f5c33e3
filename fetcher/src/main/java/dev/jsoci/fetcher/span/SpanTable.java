package dev.jsoci.fetcher.span;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * The state of every span of one layer and the single fetch in flight per span.
 *
 * <p>This table's monitor guards the states, the futures of fetches in flight and the background
 * cursor. Callers decide under it who fetches a span, fetch with it released, and complete the
 * future after publishing the new state, so that no waiter runs while the lock is held.
 */
final class SpanTable {
  /**
   * A span a caller waits for.
   *
   * @param owner whether the caller moved the span to {@code FETCHING} and must resolve {@code
   *     future} by {@link #complete} or {@link #fail}; otherwise it joined another caller's fetch
   */
  record Ticket(int spanId, CompletableFuture<VerifiedSpan> future, boolean owner) {}

  private final String layer;
  private final boolean[] skippedInBackground;

  @GuardedBy("this")
  private final SpanState[] states;

  @GuardedBy("this")
  private final List<@Nullable CompletableFuture<VerifiedSpan>> fetches;

  /** The lowest span id the background fetcher has not yet looked at. */
  @GuardedBy("this")
  private int backgroundCursor;

  /**
   * @param layer the layer digest, for messages
   * @param skippedInBackground span ids the background fetcher never claims, such as spans with no
   *     tar bytes
   */
  SpanTable(String layer, boolean[] skippedInBackground) {
    this.layer = layer;
    this.skippedInBackground = skippedInBackground.clone();
    this.states = new SpanState[skippedInBackground.length];
    Arrays.fill(states, SpanState.NOT_REQUESTED);
    this.fetches = new ArrayList<>(skippedInBackground.length);
    for (int i = 0; i < skippedInBackground.length; i++) {
      fetches.add(null);
    }
  }

  synchronized SpanState state(int spanId) {
    return states[spanId];
  }

  /**
   * Returns one ticket per id, in the order given: the fetch in flight for a span that has one,
   * else a new fetch that the caller owns. Decides for all ids under one lock acquisition.
   */
  synchronized List<Ticket> claimOrJoin(int[] spanIds) {
    List<Ticket> tickets = new ArrayList<>(spanIds.length);
    for (int id : spanIds) {
      CompletableFuture<VerifiedSpan> inFlight = fetches.get(id);
      if (inFlight != null) {
        tickets.add(new Ticket(id, inFlight, false));
      } else {
        tickets.add(claim(id));
      }
    }
    return tickets;
  }

  /**
   * Returns a ticket that joins the fetch in flight of span {@code spanId}, or null without one.
   */
  synchronized @Nullable Ticket joinInFlight(int spanId) {
    CompletableFuture<VerifiedSpan> inFlight = fetches.get(spanId);
    return inFlight == null ? null : new Ticket(spanId, inFlight, false);
  }

  /**
   * Claims the span for a background fetch when it was never requested or its last fetch failed,
   * else returns null.
   */
  synchronized @Nullable Ticket claimForBackground(int spanId) {
    if (states[spanId] != SpanState.NOT_REQUESTED && states[spanId] != SpanState.FAILED) {
      return null;
    }
    return claim(spanId);
  }

  @GuardedBy("this")
  private Ticket claim(int spanId) {
    move(spanId, SpanState.FETCHING);
    CompletableFuture<VerifiedSpan> future = new CompletableFuture<>();
    fetches.set(spanId, future);
    return new Ticket(spanId, future, true);
  }

  /**
   * Returns the next span the background fetcher should consider, the lowest id at or after its
   * cursor that was never requested or whose last fetch failed, and moves the cursor past it; -1
   * when none is left.
   */
  synchronized int nextBackgroundCandidate() {
    while (backgroundCursor < states.length) {
      int id = backgroundCursor++;
      boolean open = states[id] == SpanState.NOT_REQUESTED || states[id] == SpanState.FAILED;
      if (open && !skippedInBackground[id]) {
        return id;
      }
    }
    return -1;
  }

  /** Moves the background cursor back to the first span, for a new pass after failures. */
  synchronized void rewindBackground() {
    backgroundCursor = 0;
  }

  /** Publishes the span as {@code READY}, then hands it to every waiter. */
  void complete(Ticket ticket, VerifiedSpan span) {
    finish(ticket, SpanState.READY);
    ticket.future().complete(span);
  }

  /** Publishes the span as {@code FAILED}, then hands the failure to every waiter. */
  void fail(Ticket ticket, Throwable failure) {
    finish(ticket, SpanState.FAILED);
    ticket.future().completeExceptionally(failure);
  }

  private synchronized void finish(Ticket ticket, SpanState next) {
    int id = ticket.spanId();
    if (!ticket.owner() || fetches.get(id) != ticket.future()) {
      throw new IllegalStateException(
          "layer "
              + layer
              + ": span "
              + id
              + " is resolved by a caller that does not own its fetch");
    }
    move(id, next);
    fetches.set(id, null);
  }

  @GuardedBy("this")
  private void move(int spanId, SpanState next) {
    SpanState current = states[spanId];
    if (!current.canMoveTo(next)) {
      throw new IllegalStateException(
          "layer " + layer + ": span " + spanId + " cannot move from " + current + " to " + next);
    }
    states[spanId] = next;
  }
}
