/**
 * OCI and SOCI value types: digests, media types, platforms, descriptors, image manifests and
 * indexes, SOCI index manifests and image references, with parsing, validation and a JSON writer
 * that produces the bytes Go's {@code encoding/json} produces.
 *
 * <p>This module is the root of the dependency graph: it may use Jackson (for reading JSON) and
 * nothing else. It performs no I/O beyond byte arrays, starts no threads and never logs.
 */
@NullMarked
package dev.jsoci.oci;

import org.jspecify.annotations.NullMarked;
