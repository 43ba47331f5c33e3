package dev.jsoci.fetcher.registry;

/**
 * Token scopes of the Docker registry token protocol: {@code repository:<name>:<actions>}, several
 * separated by spaces.
 */
final class Scopes {
  private Scopes() {}

  static String pull(String repository) {
    return "repository:" + repository + ":pull";
  }

  static String pullPush(String repository) {
    return "repository:" + repository + ":pull,push";
  }

  /** Returns the scopes of a cross-repository mount: push to the target, pull from the source. */
  static String mount(String repository, String fromRepository) {
    return pullPush(repository) + " " + pull(fromRepository);
  }
}
