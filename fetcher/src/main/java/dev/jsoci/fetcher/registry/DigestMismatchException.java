package dev.jsoci.fetcher.registry;

import dev.jsoci.oci.Digest;

/**
 * Content read from or written to a registry whose digest is not the expected one: a manifest or
 * blob read whole, or the {@code Docker-Content-Digest} a registry returned for a push.
 */
public final class DigestMismatchException extends RegistryException {
  private static final long serialVersionUID = 1L;

  private final Digest expected;
  private final Digest actual;

  /**
   * Creates the exception with the message {@code <what>: digest mismatch, expected <expected>,
   * actual <actual>}.
   *
   * @param what the content, for example {@code blob sha256:... of 127.0.0.1:5000/app}
   */
  DigestMismatchException(String what, Digest expected, Digest actual) {
    super(what + ": digest mismatch, expected " + expected + ", actual " + actual);
    this.expected = expected;
    this.actual = actual;
  }

  public Digest expected() {
    return expected;
  }

  public Digest actual() {
    return actual;
  }
}
