/**
 * Lazy reads of layer blobs span by span: the span manager of each layer, the span caches in memory
 * and on disk, span digest checks, prefetch and the background fetcher.
 *
 * <p>{@link dev.jsoci.fetcher.span.SpanEngine} is the entry point; it opens one {@link
 * dev.jsoci.fetcher.span.SpanManager} per layer in use. Compressed bytes come from a {@link
 * dev.jsoci.fetcher.span.BlobRangeSource}, which {@link
 * dev.jsoci.fetcher.span.RegistryBlobRangeSource} backs with ranged registry reads. May use {@code
 * dev.jsoci.oci}, {@code dev.jsoci.ztoc}, {@code dev.jsoci.fetcher.registry}, Caffeine and SLF4J.
 */
@NullMarked
package dev.jsoci.fetcher.span;

import org.jspecify.annotations.NullMarked;
