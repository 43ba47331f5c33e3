package dev.jsoci.fetcher.registry;

import static com.google.common.truth.Truth.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Parsing WWW-Authenticate headers (RFC 7235 section 4.1). */
class AuthChallengeTest {
  @Test
  void parse_bearerWithQuotedCommas() {
    List<AuthChallenge> challenges =
        AuthChallenge.parse(
            List.of(
                "Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
                    + "scope=\"repository:a:pull,push repository:b:pull\""));

    assertThat(challenges)
        .containsExactly(
            new AuthChallenge(
                "bearer",
                Map.of(
                    "realm", "https://auth.example/token",
                    "service", "registry.example",
                    "scope", "repository:a:pull,push repository:b:pull")));
  }

  @Test
  void parse_severalChallengesInOneHeader() {
    List<AuthChallenge> challenges =
        AuthChallenge.parse(
            List.of(
                "Basic realm=\"basic, with comma\", Bearer realm=\"https://t\" ,"
                    + " error=invalid_token"));

    assertThat(challenges)
        .containsExactly(
            new AuthChallenge("basic", Map.of("realm", "basic, with comma")),
            new AuthChallenge("bearer", Map.of("realm", "https://t", "error", "invalid_token")))
        .inOrder();
  }

  @Test
  void parse_escapesCaseAndSpacing() {
    List<AuthChallenge> challenges =
        AuthChallenge.parse(List.of("BEARER  Realm = \"a\\\"b\\\\c\" ,SERVICE=svc"));

    assertThat(challenges)
        .containsExactly(new AuthChallenge("bearer", Map.of("realm", "a\"b\\c", "service", "svc")));
  }

  @Test
  void parse_schemeWithoutParameters() {
    List<AuthChallenge> challenges = AuthChallenge.parse(List.of("Negotiate", "Basic realm=r"));

    assertThat(challenges)
        .containsExactly(
            new AuthChallenge("negotiate", Map.of()),
            new AuthChallenge("basic", Map.of("realm", "r")))
        .inOrder();
  }

  @Test
  void parse_garbage() {
    List<AuthChallenge> challenges =
        AuthChallenge.parse(List.of("Bearer realm=\"unterminated", "=,,\"", ""));

    assertThat(challenges.get(0))
        .isEqualTo(new AuthChallenge("bearer", Map.of("realm", "unterminated")));
  }
}
