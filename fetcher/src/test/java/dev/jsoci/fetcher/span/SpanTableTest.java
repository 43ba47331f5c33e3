package dev.jsoci.fetcher.span;

import static com.google.common.truth.Truth.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jsoci.fetcher.span.SpanTable.Ticket;
import dev.jsoci.ztoc.Span;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class SpanTableTest {
  private final SpanTable table = new SpanTable("sha256:test", new boolean[] {false, false, true});

  @Test
  void claimOrJoin_secondCaller_joinsTheFetch() {
    Ticket first = table.claimOrJoin(new int[] {0}).get(0);
    Ticket second = table.claimOrJoin(new int[] {0}).get(0);

    assertThat(first.owner()).isTrue();
    assertThat(second.owner()).isFalse();
    assertThat(second.future()).isSameInstanceAs(first.future());
    assertThat(table.state(0)).isEqualTo(SpanState.FETCHING);
  }

  @Test
  void complete_ownedTicket_makesSpanReadyAndWakesWaiters() {
    Ticket ticket = table.claimOrJoin(new int[] {1}).get(0);
    VerifiedSpan span = VerifiedSpan.ofCompressed(new Span(1, 0, 1, 0, 1), new byte[] {7});

    table.complete(ticket, span);

    assertThat(table.state(1)).isEqualTo(SpanState.READY);
    assertThat(ticket.future().join()).isSameInstanceAs(span);
  }

  @Test
  void fail_ownedTicket_makesSpanFailedThenClaimableAgain() {
    Ticket ticket = table.claimOrJoin(new int[] {1}).get(0);

    table.fail(ticket, new IOException("reset"));

    assertThat(table.state(1)).isEqualTo(SpanState.FAILED);
    assertThat(ticket.future().isCompletedExceptionally()).isTrue();
    assertThat(table.claimOrJoin(new int[] {1}).get(0).owner()).isTrue();
  }

  @Test
  void complete_joinedTicket_isRejected() {
    table.claimOrJoin(new int[] {0});
    Ticket joined = table.claimOrJoin(new int[] {0}).get(0);

    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> table.fail(joined, new IOException("not the owner")));

    assertThat(e)
        .hasMessageThat()
        .isEqualTo("layer sha256:test: span 0 is resolved by a caller that does not own its fetch");
  }

  @Test
  void nextBackgroundCandidate_skipsRequestedAndSkippedSpans() {
    List<Ticket> claimed = table.claimOrJoin(new int[] {0});

    assertThat(table.nextBackgroundCandidate()).isEqualTo(1);
    assertThat(table.nextBackgroundCandidate()).isEqualTo(-1);
    assertThat(claimed).hasSize(1);
  }

  @Test
  void claimForBackground_readySpan_returnsNull() {
    Ticket ticket = table.claimOrJoin(new int[] {1}).get(0);
    table.complete(ticket, VerifiedSpan.ofCompressed(new Span(1, 0, 1, 0, 1), new byte[] {7}));

    assertThat(table.claimForBackground(1)).isNull();
    assertThat(table.claimForBackground(0)).isNotNull();
  }
}
