package dev.jsoci.fetcher.span;

/**
 * Counts of the span work of one layer, or of every layer of a {@link SpanEngine}, at one moment.
 *
 * @param requests calls to a {@link BlobRangeSource}, each one ranged request for a registry
 * @param bytesFetched compressed bytes received from sources, refetches after a digest mismatch
 *     included
 * @param spansFetched spans whose compressed bytes came from a source and passed the digest check
 *     (or were taken unchecked when verification is off)
 * @param memoryHits spans served from the memory cache
 * @param diskHits spans loaded from the disk cache instead of being fetched
 * @param digestMismatches spans whose fetched bytes did not match their digest, counted once per
 *     failed check
 * @param backgroundSpans spans fetched by the background fetcher, a part of {@code spansFetched}
 */
public record FetchStatistics(
    long requests,
    long bytesFetched,
    long spansFetched,
    long memoryHits,
    long diskHits,
    long digestMismatches,
    long backgroundSpans) {}
