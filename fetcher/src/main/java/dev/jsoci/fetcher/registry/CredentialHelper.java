package dev.jsoci.fetcher.registry;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Runs Docker credential helper programs: {@code docker-credential-<name> get} reads the server URL
 * on standard input and prints {@code {"ServerURL": ..., "Username": ..., "Secret": ...}}. A user
 * name of {@code <token>} marks the secret as an identity token. A helper that exits with a failure
 * and prints "credentials not found" means there are none.
 */
final class CredentialHelper {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
  private static final int MAX_OUTPUT_BYTES = 1 << 20;
  private static final String IDENTITY_TOKEN_USERNAME = "<token>";

  private final @Nullable Path directory;
  private final Duration timeout;

  CredentialHelper(@Nullable Path directory, Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("helper timeout must be positive, found " + timeout);
    }
    this.directory = directory;
    this.timeout = timeout;
  }

  /**
   * Runs {@code docker-credential-<name> get} for {@code serverUrl}, blocking for up to the
   * timeout.
   */
  Optional<Credentials> get(String name, String serverUrl) throws IOException {
    String program = "docker-credential-" + name;
    if (!NAME.matcher(name).matches()) {
      throw new CredentialHelperException(
          "invalid credential helper name \"" + name + "\" in Docker config");
    }
    Path executable = find(program);

    Process process =
        new ProcessBuilder(executable.toString(), "get")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    Thread reader = new Thread(() -> copyBounded(process.getInputStream(), output), program);
    reader.setDaemon(true);
    reader.start();
    try (OutputStream stdin = process.getOutputStream()) {
      stdin.write(serverUrl.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      // The helper may exit before reading its input, and its exit status reports why.
    }

    int status;
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new CredentialHelperException(
            program + " get timed out after " + timeout.toMillis() + " ms for " + serverUrl);
      }
      status = process.exitValue();
      reader.join(timeout.toMillis());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running " + program, e);
    }

    String text;
    synchronized (output) {
      text = output.toString(StandardCharsets.UTF_8).trim();
    }
    if (status != 0) {
      if (text.toLowerCase(java.util.Locale.ROOT).contains("credentials not found")) {
        return Optional.empty();
      }
      throw new CredentialHelperException(
          program
              + " get failed with exit status "
              + status
              + " for "
              + serverUrl
              + ": "
              + firstLine(text));
    }
    return parse(program, serverUrl, text);
  }

  private static Optional<Credentials> parse(String program, String serverUrl, String text)
      throws IOException {
    JsonNode json;
    try {
      json = JSON.readTree(text);
    } catch (JacksonException e) {
      // Jackson's message quotes the offending token, which may be part of the secret, so only
      // the location is kept and the exception is not chained.
      throw new CredentialHelperException(
          program + " get printed invalid JSON for " + serverUrl + location(e));
    }
    if (json == null || !json.isObject()) {
      throw new CredentialHelperException(program + " get printed no JSON object for " + serverUrl);
    }
    String username = json.path("Username").asText("");
    String secret = json.path("Secret").asText("");
    if (secret.isEmpty()) {
      return Optional.empty();
    }
    if (username.equals(IDENTITY_TOKEN_USERNAME)) {
      return Optional.of(Credentials.identityToken(secret));
    }
    return Optional.of(new Credentials(username, secret));
  }

  private Path find(String program) throws IOException {
    if (directory != null) {
      Path candidate = directory.resolve(program);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
      throw new CredentialHelperException(
          "credential helper "
              + program
              + " not found in "
              + directory
              + "; install it or remove it from the Docker config");
    }
    String path = System.getenv("PATH");
    if (path != null) {
      for (String entry : path.split(java.io.File.pathSeparator)) {
        if (entry.isEmpty()) {
          continue;
        }
        Path candidate = Path.of(entry, program);
        if (Files.isExecutable(candidate)) {
          return candidate;
        }
      }
    }
    throw new CredentialHelperException(
        "credential helper "
            + program
            + " not found on PATH; install it or remove it from the"
            + " Docker config");
  }

  private static void copyBounded(InputStream input, ByteArrayOutputStream output) {
    byte[] buffer = new byte[8192];
    try (input) {
      int total = 0;
      int read;
      while ((read = input.read(buffer)) >= 0) {
        if (total + read > MAX_OUTPUT_BYTES) {
          continue;
        }
        synchronized (output) {
          output.write(buffer, 0, read);
        }
        total += read;
      }
    } catch (IOException e) {
      // The process was killed or closed its output, so the bytes read so far are kept.
    }
  }

  private static String location(JacksonException e) {
    if (e.getLocation() == null || e.getLocation().getLineNr() < 1) {
      return "";
    }
    return " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
  }

  /** Returns the first line of a helper's output for an error message, unless it may be JSON. */
  private static String firstLine(String text) {
    if (text.startsWith("{")) {
      // A helper that prints credentials and then fails must not put them in the message.
      return "(JSON output not shown)";
    }
    int newline = text.indexOf('\n');
    String line = newline < 0 ? text : text.substring(0, newline);
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }
}
