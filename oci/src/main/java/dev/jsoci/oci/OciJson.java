package dev.jsoci.oci;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * Translates between JSON bytes and the manifest, index and descriptor records, in both directions.
 * No other class reads or writes the JSON member names.
 *
 * <h2>Reading</h2>
 *
 * The reader follows what Go's {@code encoding/json} does when it unmarshals into the OCI
 * image-spec v1.1 Go types, so that a value read here and written by {@link GoJsonWriter} has the
 * bytes Go would produce from the same input:
 *
 * <ul>
 *   <li>The input is decoded as UTF-8 with each invalid byte replaced by U+FFFD ({@link GoUtf8}),
 *       and an unpaired surrogate escape such as <code>&#92;ud800</code> also becomes U+FFFD.
 *   <li>Member names match the Go field names case-insensitively ({@code MediaType} fills {@code
 *       mediaType}). Unknown members are skipped. When a member repeats, the last one wins.
 *   <li>{@code null} leaves a string, number or struct member unchanged and clears a map, array,
 *       {@code data} or pointer member ({@code subject}, {@code platform}). A {@code null}
 *       annotation value becomes {@code ""}.
 * </ul>
 *
 * On top of Go's rules the reader requires {@code schemaVersion} 2, a {@code config} in manifests,
 * and a valid {@code digest} and a non-negative {@code size} in every descriptor.
 *
 * <p>NOTE: when an object member repeats (two {@code config} members, say), Go decodes the second
 * into the struct that the first filled, which merges them. Here the second replaces the first.
 */
final class OciJson {
  private static final JsonFactory JSON_FACTORY = new JsonFactory();

  private OciJson() {}

  static ImageManifest readManifest(byte[] json) throws OciFormatException {
    return readDocument(json, OciJson::readManifestMembers);
  }

  static ImageIndex readIndex(byte[] json) throws OciFormatException {
    return readDocument(json, OciJson::readIndexMembers);
  }

  static PrefetchArtifact readPrefetch(byte[] json) throws OciFormatException {
    return readDocument(json, OciJson::readPrefetchMembers);
  }

  private static ImageManifest readManifestMembers(JsonParser parser) throws IOException {
    long schemaVersion = -1;
    String mediaType = "";
    String artifactType = "";
    @Nullable Descriptor config = null;
    List<Descriptor> layers = List.of();
    @Nullable Descriptor subject = null;
    Map<String, String> annotations = Map.of();

    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = memberName(parser, MANIFEST_MEMBERS);
      parser.nextToken();
      switch (name) {
        case "schemaVersion":
          schemaVersion = readInteger(parser, "schemaVersion", schemaVersion);
          break;
        case "mediaType":
          mediaType = readString(parser, "mediaType", mediaType);
          break;
        case "artifactType":
          artifactType = readString(parser, "artifactType", artifactType);
          break;
        case "config":
          config =
              parser.currentToken() == JsonToken.VALUE_NULL
                  ? config
                  : readDescriptor(parser, "config");
          break;
        case "layers":
          layers = readDescriptors(parser, "layers");
          break;
        case "subject":
          subject = readOptionalDescriptor(parser, "subject");
          break;
        case "annotations":
          annotations = readStringMap(parser, "annotations");
          break;
        default:
          parser.skipChildren();
          break;
      }
    }

    checkSchemaVersion(schemaVersion);
    if (config == null) {
      throw new OciFormatException("missing config");
    }
    return new ImageManifest(mediaType, artifactType, config, layers, subject, annotations);
  }

  private static ImageIndex readIndexMembers(JsonParser parser) throws IOException {
    long schemaVersion = -1;
    String mediaType = "";
    String artifactType = "";
    List<Descriptor> manifests = List.of();
    @Nullable Descriptor subject = null;
    Map<String, String> annotations = Map.of();

    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = memberName(parser, INDEX_MEMBERS);
      parser.nextToken();
      switch (name) {
        case "schemaVersion":
          schemaVersion = readInteger(parser, "schemaVersion", schemaVersion);
          break;
        case "mediaType":
          mediaType = readString(parser, "mediaType", mediaType);
          break;
        case "artifactType":
          artifactType = readString(parser, "artifactType", artifactType);
          break;
        case "manifests":
          manifests = readDescriptors(parser, "manifests");
          break;
        case "subject":
          subject = readOptionalDescriptor(parser, "subject");
          break;
        case "annotations":
          annotations = readStringMap(parser, "annotations");
          break;
        default:
          parser.skipChildren();
          break;
      }
    }

    checkSchemaVersion(schemaVersion);
    return new ImageIndex(mediaType, artifactType, manifests, subject, annotations);
  }

  /**
   * Reads a prefetch artifact as Go reads it into the SOCI reference's types, then checks the
   * version and every range.
   */
  private static PrefetchArtifact readPrefetchMembers(JsonParser parser) throws IOException {
    String version = "";
    List<PrefetchArtifact.SpanRange> spans = List.of();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = memberName(parser, PREFETCH_MEMBERS);
      parser.nextToken();
      switch (name) {
        case "version":
          version = readString(parser, "version", version);
          break;
        case "prefetch_spans":
          spans = readSpanRanges(parser, "prefetch_spans");
          break;
        default:
          parser.skipChildren();
          break;
      }
    }
    if (!version.equals(PrefetchArtifact.VERSION)) {
      throw new OciFormatException(
          "unsupported prefetch artifact version \""
              + version
              + "\", expected "
              + PrefetchArtifact.VERSION);
    }
    return new PrefetchArtifact(spans);
  }

  private static List<PrefetchArtifact.SpanRange> readSpanRanges(JsonParser parser, String path)
      throws IOException {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_NULL) {
      return List.of();
    }
    if (token != JsonToken.START_ARRAY) {
      throw wrongType(path, "an array", token);
    }
    List<PrefetchArtifact.SpanRange> ranges = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      String element = path + "[" + ranges.size() + "]";
      if (parser.currentToken() != JsonToken.START_OBJECT) {
        throw wrongType(element, "an object", parser.currentToken());
      }
      long start = 0;
      long end = 0;
      long priority = 0;
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String name = memberName(parser, SPAN_RANGE_MEMBERS);
        parser.nextToken();
        switch (name) {
          case "start_span":
            start = readInt32(parser, element + ".start_span", start);
            break;
          case "end_span":
            end = readInt32(parser, element + ".end_span", end);
            break;
          case "priority":
            priority = readInt32(parser, element + ".priority", priority);
            break;
          default:
            parser.skipChildren();
            break;
        }
      }
      if (start < 0 || end < start) {
        throw new OciFormatException(
            "invalid "
                + element
                + ": start_span "
                + start
                + " and end_span "
                + end
                + ", expected 0 <= start_span <= end_span");
      }
      ranges.add(new PrefetchArtifact.SpanRange((int) start, (int) end, (int) priority));
    }
    return ranges;
  }

  /**
   * Writes a prefetch artifact as the SOCI reference does: version, prefetch_spans (always), and in
   * each range start_span, end_span and priority (omitted when 0).
   */
  static byte[] writePrefetch(PrefetchArtifact artifact) {
    GoJsonWriter writer = new GoJsonWriter().beginObject();
    writer.name("version").value(PrefetchArtifact.VERSION);
    writer.name("prefetch_spans").beginArray();
    for (PrefetchArtifact.SpanRange range : artifact.spans()) {
      writer.beginObject();
      writer.name("start_span").value(range.startSpan());
      writer.name("end_span").value(range.endSpan());
      if (range.priority() != 0) {
        writer.name("priority").value(range.priority());
      }
      writer.endObject();
    }
    writer.endArray();
    return writer.endObject().toByteArray();
  }

  /**
   * Writes a manifest with the members and omission rules of the Go type {@code v1.Manifest}:
   * schemaVersion, mediaType (omitted if empty), artifactType (omitted if empty), config, layers
   * (always), subject (omitted if null), annotations (omitted if empty).
   */
  static byte[] writeManifest(ImageManifest manifest) {
    GoJsonWriter writer = new GoJsonWriter().beginObject();
    writer.name("schemaVersion").value(ImageManifest.SCHEMA_VERSION);
    writeIfNotEmpty(writer, "mediaType", manifest.mediaType());
    writeIfNotEmpty(writer, "artifactType", manifest.artifactType());
    writer.name("config");
    writeDescriptor(writer, manifest.config());
    writer.name("layers");
    writeDescriptors(writer, manifest.layers());
    if (manifest.subject() != null) {
      writer.name("subject");
      writeDescriptor(writer, manifest.subject());
    }
    writeStringMapIfNotEmpty(writer, "annotations", manifest.annotations());
    return writer.endObject().toByteArray();
  }

  /**
   * Writes an index with the members and omission rules of the Go type {@code v1.Index}:
   * schemaVersion, mediaType (omitted if empty), artifactType (omitted if empty), manifests
   * (always), subject (omitted if null), annotations (omitted if empty).
   */
  static byte[] writeIndex(ImageIndex index) {
    GoJsonWriter writer = new GoJsonWriter().beginObject();
    writer.name("schemaVersion").value(ImageIndex.SCHEMA_VERSION);
    writeIfNotEmpty(writer, "mediaType", index.mediaType());
    writeIfNotEmpty(writer, "artifactType", index.artifactType());
    writer.name("manifests");
    writeDescriptors(writer, index.manifests());
    if (index.subject() != null) {
      writer.name("subject");
      writeDescriptor(writer, index.subject());
    }
    writeStringMapIfNotEmpty(writer, "annotations", index.annotations());
    return writer.endObject().toByteArray();
  }

  // ---- Reading --------------------------------------------------------------------------------

  private static final List<String> MANIFEST_MEMBERS =
      List.of(
          "schemaVersion",
          "mediaType",
          "artifactType",
          "config",
          "layers",
          "subject",
          "annotations");
  private static final List<String> INDEX_MEMBERS =
      List.of("schemaVersion", "mediaType", "artifactType", "manifests", "subject", "annotations");
  private static final List<String> DESCRIPTOR_MEMBERS =
      List.of(
          "mediaType", "digest", "size", "urls", "annotations", "data", "platform", "artifactType");
  private static final List<String> PREFETCH_MEMBERS = List.of("version", "prefetch_spans");
  private static final List<String> SPAN_RANGE_MEMBERS =
      List.of("start_span", "end_span", "priority");
  private static final List<String> PLATFORM_MEMBERS =
      List.of("architecture", "os", "os.version", "os.features", "variant");

  /** Reads the members of a top-level object; the parser is on its START_OBJECT token. */
  private interface DocumentReader<T> {
    T read(JsonParser parser) throws IOException;
  }

  /**
   * Decodes {@code json} as Go does and reads it with {@code reader}, turning every failure into an
   * {@link OciFormatException}.
   *
   * <p>Like Go's {@code json.Unmarshal}, it checks the syntax of the whole document before it reads
   * any member, so a syntax error is reported even when an earlier member is invalid.
   */
  private static <T> T readDocument(byte[] json, DocumentReader<T> reader)
      throws OciFormatException {
    String text = GoUtf8.decode(json);
    try {
      checkSyntax(text);
      try (JsonParser parser = JSON_FACTORY.createParser(text)) {
        parser.nextToken();
        return reader.read(parser);
      }
    } catch (JsonProcessingException e) {
      throw invalidJson(e);
    } catch (OciFormatException e) {
      throw e;
    } catch (IOException e) {
      throw new OciFormatException("invalid JSON: " + e.getMessage(), e);
    }
  }

  /** Checks that {@code text} is exactly one JSON object, with only whitespace around it. */
  private static void checkSyntax(String text) throws IOException {
    try (JsonParser parser = JSON_FACTORY.createParser(text)) {
      JsonToken first = parser.nextToken();
      if (first == null) {
        throw new OciFormatException("invalid JSON: empty document");
      }
      if (first != JsonToken.START_OBJECT) {
        throw new OciFormatException("invalid JSON: expected an object, found " + describe(first));
      }
      parser.skipChildren();
      JsonToken next = parser.nextToken();
      if (next != null) {
        throw new OciFormatException(
            "invalid JSON: " + describe(next) + " after the top-level object");
      }
    }
  }

  /**
   * Returns the known member that the current field name denotes, matched as Go does (exactly, else
   * ignoring case), or {@code ""} for an unknown member.
   */
  private static String memberName(JsonParser parser, List<String> knownMembers)
      throws IOException {
    String name = GoUtf8.replaceUnpairedSurrogates(parser.currentName());
    for (String known : knownMembers) {
      if (known.equals(name)) {
        return known;
      }
    }
    for (String known : knownMembers) {
      if (known.equalsIgnoreCase(name)) {
        return known;
      }
    }
    return "";
  }

  private static void checkSchemaVersion(long schemaVersion) throws OciFormatException {
    if (schemaVersion == -1) {
      throw new OciFormatException("missing schemaVersion, expected 2");
    }
    if (schemaVersion != ImageManifest.SCHEMA_VERSION) {
      throw new OciFormatException("unsupported schemaVersion " + schemaVersion + ", expected 2");
    }
  }

  private static String readString(JsonParser parser, String path, String current)
      throws IOException {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_NULL) {
      return current;
    }
    if (token != JsonToken.VALUE_STRING) {
      throw wrongType(path, "a string", token);
    }
    return GoUtf8.replaceUnpairedSurrogates(parser.getText());
  }

  /**
   * Reads a JSON integer that fits a signed 64-bit value, as Go's {@code int64} accepts: no
   * fraction or exponent. Returns {@code current} for {@code null}.
   */
  private static long readInteger(JsonParser parser, String path, long current) throws IOException {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_NULL) {
      return current;
    }
    if (token == JsonToken.VALUE_NUMBER_FLOAT) {
      throw new OciFormatException(
          "invalid " + path + ": expected an integer, found " + parser.getText());
    }
    if (token != JsonToken.VALUE_NUMBER_INT) {
      throw wrongType(path, "an integer", token);
    }
    if (parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
      throw new OciFormatException(
          "invalid " + path + ": " + parser.getText() + " does not fit in a 64-bit integer");
    }
    return parser.getLongValue();
  }

  /** Reads an integer that fits Go's {@code int32}, as span ids are. */
  private static long readInt32(JsonParser parser, String path, long current) throws IOException {
    long value = readInteger(parser, path, current);
    if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
      throw new OciFormatException(
          "invalid " + path + ": " + value + " does not fit in a 32-bit integer");
    }
    return value;
  }

  private static List<String> readStrings(JsonParser parser, String path) throws IOException {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_NULL) {
      return List.of();
    }
    if (token != JsonToken.START_ARRAY) {
      throw wrongType(path, "an array", token);
    }
    List<String> values = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      values.add(readString(parser, path + "[" + values.size() + "]", ""));
    }
    return values;
  }

  private static Map<String, String> readStringMap(JsonParser parser, String path)
      throws IOException {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_NULL) {
      return Map.of();
    }
    if (token != JsonToken.START_OBJECT) {
      throw wrongType(path, "an object", token);
    }
    Map<String, String> values = new LinkedHashMap<>();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String key = GoUtf8.replaceUnpairedSurrogates(parser.currentName());
      parser.nextToken();
      values.put(key, readString(parser, path + "[\"" + key + "\"]", ""));
    }
    return values;
  }

  private static List<Descriptor> readDescriptors(JsonParser parser, String path)
      throws IOException {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_NULL) {
      return List.of();
    }
    if (token != JsonToken.START_ARRAY) {
      throw wrongType(path, "an array", token);
    }
    List<Descriptor> descriptors = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      descriptors.add(readDescriptor(parser, path + "[" + descriptors.size() + "]"));
    }
    return descriptors;
  }

  private static @Nullable Descriptor readOptionalDescriptor(JsonParser parser, String path)
      throws IOException {
    if (parser.currentToken() == JsonToken.VALUE_NULL) {
      return null;
    }
    return readDescriptor(parser, path);
  }

  /**
   * Reads a descriptor object. A {@code null} array element reads as an empty descriptor, as in Go,
   * and so fails for its missing digest.
   */
  private static Descriptor readDescriptor(JsonParser parser, String path) throws IOException {
    JsonToken token = parser.currentToken();
    if (token != JsonToken.START_OBJECT && token != JsonToken.VALUE_NULL) {
      throw wrongType(path, "an object", token);
    }

    String mediaType = "";
    @Nullable String digest = null;
    long size = -1;
    List<String> urls = List.of();
    Map<String, String> annotations = Map.of();
    byte[] data = new byte[0];
    @Nullable Platform platform = null;
    String artifactType = "";

    while (token == JsonToken.START_OBJECT && parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = memberName(parser, DESCRIPTOR_MEMBERS);
      parser.nextToken();
      String memberPath = path + "." + name;
      switch (name) {
        case "mediaType":
          mediaType = readString(parser, memberPath, mediaType);
          break;
        case "digest":
          if (parser.currentToken() != JsonToken.VALUE_NULL) {
            digest = readString(parser, memberPath, "");
          }
          break;
        case "size":
          if (parser.currentToken() != JsonToken.VALUE_NULL) {
            size = readInteger(parser, memberPath, size);
            if (size < 0) {
              throw new OciFormatException(
                  "invalid " + memberPath + " " + size + ": must not be negative");
            }
          }
          break;
        case "urls":
          urls = readStrings(parser, memberPath);
          break;
        case "annotations":
          annotations = readStringMap(parser, memberPath);
          break;
        case "data":
          data = readBase64(parser, memberPath);
          break;
        case "platform":
          platform = readPlatform(parser, memberPath);
          break;
        case "artifactType":
          artifactType = readString(parser, memberPath, artifactType);
          break;
        default:
          parser.skipChildren();
          break;
      }
    }

    if (digest == null) {
      throw new OciFormatException("missing " + path + ".digest");
    }
    String digestProblem = Digest.problemWith(digest);
    if (digestProblem != null) {
      throw new OciFormatException(
          "invalid " + path + ".digest \"" + digest + "\": " + digestProblem);
    }
    if (size == -1) {
      throw new OciFormatException("missing " + path + ".size");
    }
    return new Descriptor(
        mediaType, Digest.parse(digest), size, urls, annotations, data, platform, artifactType);
  }

  /**
   * Reads {@code data} as Go decodes a {@code []byte}: standard base64 with padding, ignoring
   * {@code \r} and {@code \n}.
   */
  private static byte[] readBase64(JsonParser parser, String path) throws IOException {
    if (parser.currentToken() == JsonToken.VALUE_NULL) {
      return new byte[0];
    }
    String text = readString(parser, path, "").replace("\r", "").replace("\n", "");
    // The JDK decoder accepts missing padding, and Go's base64.StdEncoding does not.
    if (text.length() % 4 != 0) {
      throw new OciFormatException(
          "invalid " + path + ": base64 length " + text.length() + " is not a multiple of 4");
    }
    try {
      return Base64.getDecoder().decode(text);
    } catch (IllegalArgumentException e) {
      throw new OciFormatException("invalid " + path + ": " + e.getMessage(), e);
    }
  }

  private static @Nullable Platform readPlatform(JsonParser parser, String path)
      throws IOException {
    JsonToken token = parser.currentToken();
    if (token == JsonToken.VALUE_NULL) {
      return null;
    }
    if (token != JsonToken.START_OBJECT) {
      throw wrongType(path, "an object", token);
    }

    String architecture = "";
    String os = "";
    String osVersion = "";
    List<String> osFeatures = List.of();
    String variant = "";
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = memberName(parser, PLATFORM_MEMBERS);
      parser.nextToken();
      String memberPath = path + "." + name;
      switch (name) {
        case "architecture":
          architecture = readString(parser, memberPath, architecture);
          break;
        case "os":
          os = readString(parser, memberPath, os);
          break;
        case "os.version":
          osVersion = readString(parser, memberPath, osVersion);
          break;
        case "os.features":
          osFeatures = readStrings(parser, memberPath);
          break;
        case "variant":
          variant = readString(parser, memberPath, variant);
          break;
        default:
          parser.skipChildren();
          break;
      }
    }
    return new Platform(os, architecture, variant, osVersion, osFeatures);
  }

  private static OciFormatException wrongType(String path, String expected, JsonToken found) {
    return new OciFormatException(
        "invalid " + path + ": expected " + expected + ", found " + describe(found));
  }

  private static String describe(JsonToken token) {
    switch (token) {
      case START_OBJECT:
        return "an object";
      case START_ARRAY:
        return "an array";
      case VALUE_STRING:
        return "a string";
      case VALUE_NUMBER_INT:
      case VALUE_NUMBER_FLOAT:
        return "a number";
      case VALUE_TRUE:
      case VALUE_FALSE:
        return "a boolean";
      case VALUE_NULL:
        return "null";
      default:
        return token.asString() == null ? token.name() : token.asString();
    }
  }

  private static OciFormatException invalidJson(JsonProcessingException e) {
    JsonLocation location = e.getLocation();
    String where =
        location == null
            ? ""
            : " at line " + location.getLineNr() + ", column " + location.getColumnNr();
    return new OciFormatException("invalid JSON" + where + ": " + e.getOriginalMessage(), e);
  }

  // ---- Writing --------------------------------------------------------------------------------

  /**
   * Writes a descriptor with the members and omission rules of the Go type {@code v1.Descriptor}:
   * mediaType (always), digest, size, urls, annotations, data (standard base64 with padding),
   * platform, artifactType, each of the last five omitted when empty.
   */
  private static void writeDescriptor(GoJsonWriter writer, Descriptor descriptor) {
    writer.beginObject();
    writer.name("mediaType").value(descriptor.mediaType());
    writer.name("digest").value(descriptor.digest().toString());
    writer.name("size").value(descriptor.size());
    if (!descriptor.urls().isEmpty()) {
      writer.name("urls");
      writeStrings(writer, descriptor.urls());
    }
    writeStringMapIfNotEmpty(writer, "annotations", descriptor.annotations());
    byte[] data = descriptor.data();
    if (data.length > 0) {
      writer.name("data").value(Base64.getEncoder().encodeToString(data));
    }
    Platform platform = descriptor.platform();
    if (platform != null) {
      writer.name("platform");
      writePlatform(writer, platform);
    }
    writeIfNotEmpty(writer, "artifactType", descriptor.artifactType());
    writer.endObject();
  }

  private static void writeDescriptors(GoJsonWriter writer, List<Descriptor> descriptors) {
    writer.beginArray();
    for (Descriptor descriptor : descriptors) {
      writeDescriptor(writer, descriptor);
    }
    writer.endArray();
  }

  /**
   * Writes a platform as the image-spec v1.1.1 Go type {@code v1.Platform}: architecture and os
   * always, then os.version, os.features and variant when not empty.
   */
  private static void writePlatform(GoJsonWriter writer, Platform platform) {
    writer.beginObject();
    writer.name("architecture").value(platform.architecture());
    writer.name("os").value(platform.os());
    writeIfNotEmpty(writer, "os.version", platform.osVersion());
    if (!platform.osFeatures().isEmpty()) {
      writer.name("os.features");
      writeStrings(writer, platform.osFeatures());
    }
    writeIfNotEmpty(writer, "variant", platform.variant());
    writer.endObject();
  }

  private static void writeStrings(GoJsonWriter writer, List<String> values) {
    writer.beginArray();
    for (String value : values) {
      writer.value(value);
    }
    writer.endArray();
  }

  /** Writes a map whose iteration order is already UTF-8 byte order, as the records keep it. */
  private static void writeStringMapIfNotEmpty(
      GoJsonWriter writer, String name, Map<String, String> values) {
    if (values.isEmpty()) {
      return;
    }
    writer.name(name).beginObject();
    for (Map.Entry<String, String> entry : values.entrySet()) {
      writer.name(entry.getKey()).value(entry.getValue());
    }
    writer.endObject();
  }

  private static void writeIfNotEmpty(GoJsonWriter writer, String name, String value) {
    if (!value.isEmpty()) {
      writer.name(name).value(value);
    }
  }
}
