package dev.jsoci.fs;

import java.math.BigDecimal;
import org.jspecify.annotations.Nullable;

/**
 * How far a layer has been fetched and its last error, as the file in the state directory {@code
 * .soci-snapshotter} reports it.
 *
 * @param digest the layer's digest, {@code sha256:<hex>}; also the state file's name without {@code
 *     .json}
 * @param blobSizeBytes the compressed size of the layer blob
 * @param fetchedBytes compressed bytes fetched so far
 * @param lastError the last error reported for the layer, or null
 */
public record LayerStatus(
    String digest, long blobSizeBytes, long fetchedBytes, @Nullable String lastError) {

  public LayerStatus {
    if (digest.isEmpty() || digest.indexOf('/') >= 0 || digest.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("digest must be a file name: \"" + digest + "\"");
    }
  }

  /**
   * Returns the state file's content, one JSON object and a newline:
   *
   * <pre>{@code
   * {"error":…,"digest":…,"size":…,"fetchedSize":…,"fetchedPercent":…}
   * }</pre>
   *
   * <p>{@code error} is left out while there is none.
   */
  public String toJson() {
    StringBuilder json = new StringBuilder("{");
    if (lastError != null && !lastError.isEmpty()) {
      json.append("\"error\":");
      appendJsonString(json, lastError);
      json.append(',');
    }
    json.append("\"digest\":");
    appendJsonString(json, digest);
    json.append(",\"size\":").append(blobSizeBytes);
    json.append(",\"fetchedSize\":").append(fetchedBytes);
    double percent = blobSizeBytes <= 0 ? 0 : fetchedBytes * 100.0 / blobSizeBytes;
    json.append(",\"fetchedPercent\":");
    json.append(BigDecimal.valueOf(percent).stripTrailingZeros().toPlainString());
    return json.append("}\n").toString();
  }

  private static void appendJsonString(StringBuilder json, String text) {
    json.append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> json.append("\\\"");
        case '\\' -> json.append("\\\\");
        case '\n' -> json.append("\\n");
        case '\r' -> json.append("\\r");
        case '\t' -> json.append("\\t");
        default -> {
          if (c < 0x20) {
            json.append(String.format("\\u%04x", (int) c));
          } else {
            json.append(c);
          }
        }
      }
    }
    json.append('"');
  }
}
