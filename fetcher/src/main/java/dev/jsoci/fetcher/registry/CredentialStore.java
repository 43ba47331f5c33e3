package dev.jsoci.fetcher.registry;

import java.io.IOException;
import java.util.Optional;

/**
 * Looks up the credentials for a registry host. Implementations must be thread-safe.
 *
 * @see DockerCredentialStore
 */
@FunctionalInterface
public interface CredentialStore {
  /** A store without credentials, so that every registry is accessed anonymously. */
  CredentialStore ANONYMOUS = host -> Optional.empty();

  /**
   * Returns the credentials for {@code host}, or empty to access it anonymously.
   *
   * @param host the {@code host[:port]} that requires authentication, for example {@code
   *     registry-1.docker.io} or {@code 127.0.0.1:5000}
   * @throws IOException if a credential source fails, for example a helper program
   */
  Optional<Credentials> lookup(String host) throws IOException;
}
