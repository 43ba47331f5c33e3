/**
 * The merged filesystem of an image's layers, as overlayfs would present it, resolved from the
 * layers' TOCs without mounting anything.
 */
@NullMarked
package dev.jsoci.fetcher.image;

import org.jspecify.annotations.NullMarked;
