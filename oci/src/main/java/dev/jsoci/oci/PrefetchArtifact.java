package dev.jsoci.oci;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A SOCI prefetch artifact: the spans of one layer that a container reads when it starts, listed in
 * the SOCI index next to the layer's zTOC ({@link MediaType#SOCI_PREFETCH}). A snapshotter fetches
 * these spans when it mounts the layer, before any read requests them.
 *
 * <p>The JSON form, compact and in member order: {@code
 * {"version":"1.0","prefetch_spans":[{"start_span":10,"end_span":15}]}}, with {@code priority}
 * after {@code end_span} when it is not 0.
 *
 * @param spans the span ranges, in the order listed
 */
public record PrefetchArtifact(List<SpanRange> spans) {

  /** The only version readers accept. */
  public static final String VERSION = "1.0";

  /**
   * The largest artifact readers accept, in bytes: room for some 30,000 ranges, far more than a
   * layer has spans in practice.
   */
  public static final long MAX_BYTES = 1 << 20;

  /**
   * An inclusive range of span ids.
   *
   * @param startSpan the first span id, at least 0
   * @param endSpan the last span id, at least {@code startSpan}
   * @param priority lower fetches earlier; reserved, 0 when unset
   */
  public record SpanRange(int startSpan, int endSpan, int priority) {
    public SpanRange {
      if (startSpan < 0 || endSpan < startSpan) {
        throw new IllegalArgumentException(
            "invalid span range: start_span " + startSpan + ", end_span " + endSpan);
      }
    }

    public static SpanRange of(int startSpan, int endSpan) {
      return new SpanRange(startSpan, endSpan, 0);
    }
  }

  public PrefetchArtifact {
    spans = List.copyOf(spans);
  }

  /**
   * Returns the artifact the SOCI reference builds from {@code ranges}: sorted by start and end,
   * and with ranges that overlap or touch merged into one.
   */
  public static PrefetchArtifact merging(List<SpanRange> ranges) {
    List<SpanRange> sorted = new ArrayList<>(ranges);
    sorted.sort(Comparator.comparingInt(SpanRange::startSpan).thenComparingInt(SpanRange::endSpan));
    List<SpanRange> merged = new ArrayList<>();
    for (SpanRange range : sorted) {
      int last = merged.size() - 1;
      if (last >= 0 && range.startSpan() <= (long) merged.get(last).endSpan() + 1) {
        SpanRange current = merged.get(last);
        merged.set(
            last, SpanRange.of(current.startSpan(), Math.max(current.endSpan(), range.endSpan())));
      } else {
        merged.add(SpanRange.of(range.startSpan(), range.endSpan()));
      }
    }
    return new PrefetchArtifact(merged);
  }

  /**
   * Parses a prefetch artifact.
   *
   * @throws OciFormatException when the JSON is invalid, the version is not {@value #VERSION}, or a
   *     range is negative or ends before it starts
   */
  public static PrefetchArtifact parse(byte[] json) throws OciFormatException {
    return OciJson.readPrefetch(json);
  }

  /**
   * Checks the size a descriptor gives for an artifact before it is read.
   *
   * @throws OciFormatException naming {@code source} when the size is above {@link #MAX_BYTES}
   */
  public static void checkSize(long sizeBytes, String source) throws OciFormatException {
    if (sizeBytes > MAX_BYTES) {
      throw new OciFormatException(
          "prefetch artifact "
              + source
              + " is "
              + sizeBytes
              + " bytes, more than the "
              + MAX_BYTES
              + " bytes accepted");
    }
  }

  /** Returns the number of span ids the ranges cover, counting overlaps twice. */
  public long spanCount() {
    long count = 0;
    for (SpanRange range : spans) {
      count += (long) range.endSpan() - range.startSpan() + 1;
    }
    return count;
  }

  /** Returns the JSON bytes Go's {@code encoding/json} writes for this artifact. */
  public byte[] toBytes() {
    return OciJson.writePrefetch(this);
  }
}
