package dev.jsoci.cli;

import dev.jsoci.convert.ImageLocation;
import dev.jsoci.oci.ImageRef;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Parses the image references of the command line. An invalid reference, or an OCI layout source
 * whose directory does not exist, is a usage error (exit status 2) raised before the command reads
 * or writes anything.
 */
final class ReferenceArguments {
  private ReferenceArguments() {}

  /** Parses a registry reference such as {@code 127.0.0.1:5000/app:v1}. */
  static ImageRef imageRef(CommandSpec spec, String text) {
    try {
      return ImageRef.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /**
   * Parses a registry reference or {@code oci:DIR[:TAG]} to read an image from; the layout
   * directory must exist.
   *
   * @param label the parameter's name in messages, such as {@code SRC}, or empty
   */
  static ImageLocation source(CommandSpec spec, String text, String label) {
    ImageLocation location = location(spec, text, label);
    Path directory = location.layoutDirectory();
    if (directory != null && !Files.isDirectory(directory)) {
      throw new ParameterException(
          spec.commandLine(),
          prefix(label)
              + "OCI layout directory "
              + directory
              + " not found: give an existing directory as oci:DIR[:TAG]");
    }
    return location;
  }

  /**
   * Parses a registry reference or {@code oci:DIR[:TAG]} to write an image to; a missing layout
   * directory is created later.
   */
  static ImageLocation destination(CommandSpec spec, String text, String label) {
    return location(spec, text, label);
  }

  private static ImageLocation location(CommandSpec spec, String text, String label) {
    try {
      return ImageLocation.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), prefix(label) + e.getMessage());
    }
  }

  private static String prefix(String label) {
    return label.isEmpty() ? "" : label + ": ";
  }
}
