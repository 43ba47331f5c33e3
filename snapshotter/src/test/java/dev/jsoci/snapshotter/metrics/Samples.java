package dev.jsoci.snapshotter.metrics;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The samples of a scrape in the Prometheus text format, found by name and labels. */
final class Samples {
  private static final Pattern SAMPLE =
      Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\"");

  /** One sample line. */
  record Sample(String name, Map<String, String> labels, double value) {}

  private final List<Sample> samples;
  private final String text;

  private Samples(String text) {
    this.text = text;
    List<Sample> parsed = new ArrayList<>();
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
      parsed.add(new Sample(matcher.group(1), labels, Double.parseDouble(matcher.group(3))));
    }
    this.samples = List.copyOf(parsed);
  }

  static Samples parse(String text) {
    return new Samples(text);
  }

  static Samples scrape(PrometheusRegistry registry) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(out, registry.scrape());
    return parse(out.toString(StandardCharsets.UTF_8));
  }

  /**
   * Returns the value of the sample {@code name} whose labels are exactly {@code labels}, given
   * as name, value pairs; empty when there is none.
   */
  OptionalDouble value(String name, String... labels) {
    Map<String, String> expected = new LinkedHashMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      expected.put(labels[i], labels[i + 1]);
    }
    for (Sample sample : samples) {
      if (sample.name().equals(name) && sample.labels().equals(expected)) {
        return OptionalDouble.of(sample.value());
      }
    }
    return OptionalDouble.empty();
  }

  /** Returns the samples named {@code name}, whatever their labels. */
  List<Sample> all(String name) {
    return samples.stream().filter(sample -> sample.name().equals(name)).toList();
  }

  String text() {
    return text;
  }
}
