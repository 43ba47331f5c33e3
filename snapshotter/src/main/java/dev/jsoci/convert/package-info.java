/**
 * Turns an image into a SOCI-enabled image: zTOCs for its layers, a SOCI index manifest v2 per
 * platform, rewritten image manifests that link to their index, and a new image index.
 *
 * <p>Images are read from and written to an {@link dev.jsoci.convert.ImageStore}: a registry
 * repository or an OCI image layout directory. May use {@code dev.jsoci.oci}, {@code
 * dev.jsoci.ztoc}, the registry client of {@code dev.jsoci.fetcher.registry} and Jackson. It prints
 * nothing: the CLI turns results and progress events into output.
 */
@NullMarked
package dev.jsoci.convert;

import org.jspecify.annotations.NullMarked;
