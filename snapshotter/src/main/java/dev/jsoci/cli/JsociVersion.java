package dev.jsoci.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** The version of jsoci, from the properties file the build writes. */
public final class JsociVersion implements IVersionProvider {
  private static final String VERSION = load();

  private static String load() {
    Properties properties = new Properties();
    try (InputStream in = JsociVersion.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      properties.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read version.properties", e);
    }
    return properties.getProperty("version", "unknown");
  }

  /** Returns the version, such as {@code 0.1.0-SNAPSHOT}. */
  public static String version() {
    return VERSION;
  }

  /** Returns the default build tool identifier written into zTOCs and SOCI indexes. */
  public static String buildToolIdentifier() {
    return "jsoci v" + VERSION;
  }

  @Override
  public String[] getVersion() {
    return new String[] {"jsoci " + VERSION};
  }
}
