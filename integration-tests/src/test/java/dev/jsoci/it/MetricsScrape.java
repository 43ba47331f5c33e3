package dev.jsoci.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One scrape of a daemon's metrics endpoint, and the listening TCP ports of a process. */
final class MetricsScrape {
  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\"");

  /** One sample line of the Prometheus text format. */
  record Sample(String name, Map<String, String> labels, double value) {}

  private final String text;
  private final List<Sample> samples = new ArrayList<>();

  MetricsScrape(String text) {
    this.text = text;
    for (String line : text.split("\n")) {
      if (line.startsWith("#") || line.isBlank()) {
        continue;
      }
      Matcher matcher = SAMPLE.matcher(line);
      if (!matcher.matches()) {
        throw new IllegalArgumentException("not a sample line: " + line);
      }
      Map<String, String> labels = new LinkedHashMap<>();
      if (matcher.group(2) != null) {
        Matcher label = LABEL.matcher(matcher.group(2));
        while (label.find()) {
          labels.put(label.group(1), label.group(2));
        }
      }
      samples.add(new Sample(matcher.group(1), labels, Double.parseDouble(matcher.group(3))));
    }
  }

  /** Scrapes {@code http://127.0.0.1:PORT/metrics}, failing on any status but 200. */
  static MetricsScrape ofPort(int port) throws IOException, InterruptedException {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("metrics endpoint returned " + response.statusCode());
    }
    return new MetricsScrape(response.body());
  }

  /**
   * Returns the value of the sample {@code name} with exactly the labels given as name, value
   * pairs, or NaN when there is none.
   */
  double value(String name, String... labels) {
    Map<String, String> expected = new LinkedHashMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      expected.put(labels[i], labels[i + 1]);
    }
    for (Sample sample : samples) {
      if (sample.name().equals(name) && sample.labels().equals(expected)) {
        return sample.value();
      }
    }
    return Double.NaN;
  }

  /** Returns every sample named {@code name}. */
  List<Sample> all(String name) {
    return samples.stream().filter(sample -> sample.name().equals(name)).toList();
  }

  String text() {
    return text;
  }

  /**
   * Returns the TCP ports that process {@code pid} listens on, over IPv4 and IPv6: the sockets in
   * {@code /proc/net/tcp} and {@code /proc/net/tcp6} in state LISTEN whose inodes are among the
   * process's open file descriptors.
   */
  static Set<Integer> listeningTcpPorts(long pid) throws IOException {
    Set<String> socketInodes = new HashSet<>();
    try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            socketInodes.add(target.substring("socket:[".length(), target.length() - 1));
          }
        } catch (IOException e) {
          // The descriptor was closed while listing.
        }
      }
    }
    Set<Integer> ports = new HashSet<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      List<String> lines = Files.readAllLines(Path.of(table));
      for (String line : lines.subList(1, lines.size())) {
        // Fields: sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid
        // timeout inode ...; state 0A is LISTEN.
        String[] fields = line.trim().split("\\s+");
        if (fields[3].equals("0A") && socketInodes.contains(fields[9])) {
          String local = fields[1];
          ports.add(Integer.parseInt(local.substring(local.indexOf(':') + 1), 16));
        }
      }
    }
    return ports;
  }
}
