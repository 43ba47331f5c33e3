package dev.jsoci.fetcher.registry;

import java.util.Objects;

/**
 * A user name and secret for one registry. An empty user name means the secret is an identity token
 * (an OAuth2 refresh token, RFC 6749 section 6), as {@code docker login} stores for registries that
 * issue one.
 *
 * <p>{@link #toString()} never shows the secret.
 */
public record Credentials(String username, String secret) {
  public Credentials {
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(secret, "secret");
  }

  /** Returns credentials whose secret is an identity token. */
  public static Credentials identityToken(String secret) {
    return new Credentials("", secret);
  }

  /** Returns whether the secret is an identity token rather than a password. */
  public boolean isIdentityToken() {
    return username.isEmpty();
  }

  @Override
  public String toString() {
    return isIdentityToken() ? "Credentials{identity}" : "Credentials{username=" + username + "}";
  }
}
