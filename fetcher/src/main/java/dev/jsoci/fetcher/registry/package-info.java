/**
 * A client for OCI distribution-spec registries: manifest and index resolution, platform choice,
 * verified blob reads, ranged blob reads, pushes, bearer and Basic authentication, and registry
 * hosts from containerd's {@code hosts.toml} directories.
 *
 * <p>{@link dev.jsoci.fetcher.registry.RegistryClient} is the entry point. May use {@code
 * dev.jsoci.oci}, okhttp, Jackson (JSON and TOML) and SLF4J.
 */
@NullMarked
package dev.jsoci.fetcher.registry;

import org.jspecify.annotations.NullMarked;
