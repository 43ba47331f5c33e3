/**
 * The {@code jsoci} command line.
 *
 * <p>May use every other module, picocli, Jackson and SLF4J; it is the only place where
 * configuration is read and options records for the other modules are made.
 */
@NullMarked
package dev.jsoci.cli;

import org.jspecify.annotations.NullMarked;
