package dev.jsoci.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.jsoci.ztoc.ByteString;
import dev.jsoci.ztoc.EntryNotFoundException;
import dev.jsoci.ztoc.EntryType;
import dev.jsoci.ztoc.LayerFormatException;
import dev.jsoci.ztoc.Span;
import dev.jsoci.ztoc.SpanExtractor;
import dev.jsoci.ztoc.TocEntry;
import dev.jsoci.ztoc.TocIndex;
import dev.jsoci.ztoc.Zinfo;
import dev.jsoci.ztoc.Zinfos;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocBuilder;
import dev.jsoci.ztoc.ZtocCodec;
import dev.jsoci.ztoc.gzip.GzipCheckpoint;
import dev.jsoci.ztoc.gzip.GzipZinfo;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jsoci ztoc}: build a zTOC from a layer blob, show one, and extract a file through one. */
@Command(
    name = "ztoc",
    mixinStandardHelpOptions = true,
    versionProvider = JsociVersion.class,
    description = "Build, inspect and use zTOCs of local layer blobs.",
    subcommands = {ZtocCommand.Build.class, ZtocCommand.Info.class, ZtocCommand.GetFile.class})
final class ZtocCommand implements Runnable {
  /** The file type bits of a {@code st_mode}, and the types of devices and sockets. */
  private static final int FILE_TYPE_MASK = 0170000;

  private static final int CHARACTER_DEVICE = 0020000;
  private static final int BLOCK_DEVICE = 0060000;
  private static final int SOCKET = 0140000;

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing subcommand");
  }

  @Command(
      name = "build",
      mixinStandardHelpOptions = true,
      description = {
        "Build the zTOC of a layer blob (gzip tar or plain tar).",
        "Prints sha256:<hex> of the zTOC bytes as the last line of stdout."
      })
  static final class Build implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--span-size",
        paramLabel = "BYTES",
        description = "Uncompressed bytes between checkpoints (default: ${DEFAULT-VALUE}).")
    long spanSize = ZtocBuilder.DEFAULT_SPAN_SIZE;

    @Option(
        names = "--build-tool-identifier",
        paramLabel = "TEXT",
        description =
            "Text stored as the zTOC's build tool identifier (default: jsoci and its version).")
    String buildToolIdentifier = JsociVersion.buildToolIdentifier();

    @Option(
        names = "--out",
        paramLabel = "FILE",
        description = "Where to write the zTOC (default: LAYER.ztoc beside the layer).")
    Path out;

    @Parameters(paramLabel = "LAYER", description = "The layer blob file.")
    Path layer;

    @Override
    public Integer call() throws IOException {
      if (spanSize <= 0) {
        throw new ParameterException(
            spec.commandLine(), "invalid --span-size " + spanSize + ": must be at least 1");
      }
      Path target = out != null ? out : layer.resolveSibling(layer.getFileName() + ".ztoc");
      checkInput(spec, layer, "LAYER");
      checkOutput(spec, target, List.of(layer));

      Ztoc ztoc;
      try (InputStream in = Files.newInputStream(layer)) {
        ztoc = new ZtocBuilder(spanSize, buildToolIdentifier).build(in, layer.toString());
      }
      byte[] bytes = ZtocCodec.encode(ztoc);
      writeAtomically(target, bytes);

      PrintWriter stdout = spec.commandLine().getOut();
      stdout.println(
          "wrote "
              + target
              + ": "
              + bytes.length
              + " bytes, "
              + ztoc.entries().size()
              + " entries, "
              + (ztoc.maxSpanId() + 1)
              + " spans");
      stdout.println(sha256(bytes));
      stdout.flush();
      return 0;
    }
  }

  @Command(
      name = "info",
      mixinStandardHelpOptions = true,
      description = "Print a zTOC as one JSON object.")
  static final class Info implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "ZTOC", description = "The zTOC file.")
    Path ztocPath;

    @Override
    public Integer call() throws IOException {
      checkInput(spec, ztocPath, "ZTOC");
      Ztoc ztoc = ZtocCodec.decode(Files.readAllBytes(ztocPath), ztocPath.toString());
      Zinfo zinfo = Zinfos.of(ztoc, ztocPath.toString());

      Map<String, Object> json = new LinkedHashMap<>();
      json.put("version", ztoc.version());
      json.put("build_tool", ztoc.buildToolIdentifier());
      json.put("compression", ztoc.compressionAlgorithm().displayName());
      json.put("compressed_archive_size", ztoc.compressedArchiveSize());
      json.put("uncompressed_archive_size", ztoc.uncompressedArchiveSize());
      json.put("max_span_id", ztoc.maxSpanId());
      json.put("span_size", zinfo.spanSize());
      json.put("span_digests", ztoc.spanDigests());
      json.put("checkpoints", checkpoints(zinfo));
      List<Map<String, Object>> files = new ArrayList<>();
      for (TocEntry entry : ztoc.entries()) {
        Map<String, Object> file = new LinkedHashMap<>();
        // NOTE: JSON text is Unicode, so bytes of a name that are not valid UTF-8 print as U+FFFD;
        // the zTOC itself keeps the bytes.
        file.put("name", entry.name().utf8());
        file.put("type", entry.type().wireName());
        file.put("size", entry.uncompressedSize());
        file.put("offset", entry.uncompressedOffset());
        file.put("mode", entry.mode());
        file.put("uid", entry.uid());
        file.put("gid", entry.gid());
        file.put("linkname", entry.linkname().utf8());
        files.add(file);
      }
      json.put("files", files);

      ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
      PrintWriter stdout = spec.commandLine().getOut();
      stdout.println(mapper.writeValueAsString(json));
      stdout.flush();
      return 0;
    }

    private static List<Map<String, Object>> checkpoints(Zinfo zinfo) {
      List<Map<String, Object>> list = new ArrayList<>();
      if (zinfo instanceof GzipZinfo gzip) {
        for (GzipCheckpoint checkpoint : gzip.checkpoints()) {
          list.add(
              checkpoint(
                  checkpoint.compressedOffset(),
                  checkpoint.uncompressedOffset(),
                  checkpoint.bits()));
        }
        return list;
      }
      for (int id = 0; id <= zinfo.maxSpanId(); id++) {
        Span span = zinfo.span(id);
        list.add(checkpoint(span.compressedStart(), span.uncompressedStart(), 0));
      }
      return list;
    }

    private static Map<String, Object> checkpoint(long in, long out, int bits) {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("in", in);
      map.put("out", out);
      map.put("bits", bits);
      return map;
    }
  }

  @Command(
      name = "get-file",
      mixinStandardHelpOptions = true,
      description =
          "Write the bytes of one file of a layer, reading and inflating only the spans that "
              + "hold it.")
  static final class GetFile implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--ztoc", required = true, paramLabel = "ZTOC", description = "The zTOC file.")
    Path ztocPath;

    @Option(
        names = "--layer",
        required = true,
        paramLabel = "LAYER",
        description = "The layer blob the zTOC was built from.")
    Path layer;

    @Option(names = "--out", paramLabel = "FILE", description = "Where to write (default: stdout).")
    Path out;

    @Parameters(paramLabel = "PATH", description = "The file's path in the layer.")
    String path;

    @Override
    public Integer call() throws IOException {
      checkInput(spec, ztocPath, "--ztoc");
      checkInput(spec, layer, "--layer");
      if (out != null) {
        checkOutput(spec, out, List.of(ztocPath, layer));
      }
      Ztoc ztoc = ZtocCodec.decode(Files.readAllBytes(ztocPath), ztocPath.toString());
      Zinfo zinfo = Zinfos.of(ztoc, ztocPath.toString());
      TocIndex index = TocIndex.of(ztoc, ztocPath.toString());
      // TODO: the JVM decodes command-line arguments with sun.jnu.encoding, so a path whose bytes
      // are not valid in it (such as 0xff in a UTF-8 locale) cannot be named here yet.
      TocEntry entry = index.resolve(ByteString.utf8(path));
      if (entry.type() != EntryType.REGULAR) {
        throw new EntryNotFoundException(
            "path \"" + path + "\" is a " + entry.type().wireName() + ", not a regular file");
      }

      try (FileChannel channel = FileChannel.open(layer, StandardOpenOption.READ)) {
        if (channel.size() != ztoc.compressedArchiveSize()) {
          throw new LayerFormatException(
              layer.toString(),
              -1,
              "blob is "
                  + channel.size()
                  + " bytes but the ztoc "
                  + ztocPath
                  + " describes a layer of "
                  + ztoc.compressedArchiveSize()
                  + " bytes");
        }
        SpanExtractor extractor = new SpanExtractor(zinfo, ztoc.spanDigests(), layer.toString());
        if (out == null) {
          OutputStream stdout = new BufferedOutputStream(System.out, 1 << 16);
          extractor.extract(
              (offset, length) -> readFully(channel, offset, length),
              entry.uncompressedOffset(),
              entry.uncompressedSize(),
              stdout);
          stdout.flush();
        } else {
          Path temporary = temporarySibling(out);
          try (OutputStream file =
              new BufferedOutputStream(Files.newOutputStream(temporary), 1 << 16)) {
            extractor.extract(
                (offset, length) -> readFully(channel, offset, length),
                entry.uncompressedOffset(),
                entry.uncompressedSize(),
                file);
          } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temporary);
            throw e;
          }
          Files.move(temporary, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
      return 0;
    }

    private static byte[] readFully(FileChannel channel, long offset, int length)
        throws IOException {
      ByteBuffer buffer = ByteBuffer.allocate(length);
      while (buffer.hasRemaining()) {
        if (channel.read(buffer, offset + buffer.position()) < 0) {
          throw new EOFException(
              "layer ends at " + (offset + buffer.position()) + ", expected " + (offset + length));
        }
      }
      return buffer.array();
    }
  }

  /**
   * Rejects an input path that is a directory, which the JVM reports as a bare "Is a directory". A
   * missing file is left to the read, whose error names it.
   */
  private static void checkInput(CommandSpec spec, Path input, String name) throws IOException {
    if (Files.isDirectory(input)) {
      throw new ParameterException(
          spec.commandLine(), name + " " + input + " is a directory; give a file");
    }
    // A device such as /dev/zero or /dev/urandom never ends, so reading it would never finish.
    // Pipes are read, as a layer streamed into the command ends when its writer does.
    if (Files.exists(input)) {
      int type = (Integer) Files.getAttribute(input, "unix:mode") & FILE_TYPE_MASK;
      if (type == CHARACTER_DEVICE || type == BLOCK_DEVICE || type == SOCKET) {
        throw new ParameterException(
            spec.commandLine(),
            name + " " + input + " is a device or socket, not a file; give a file");
      }
    }
  }

  /**
   * Rejects an output path that is a directory, lies in a directory that does not exist, or is one
   * of {@code inputs}: writing it would replace the input before it is read.
   */
  private static void checkOutput(CommandSpec spec, Path output, List<Path> inputs)
      throws IOException {
    if (Files.isDirectory(output)) {
      throw new ParameterException(
          spec.commandLine(), "--out " + output + " is a directory; give a file path");
    }
    Path parent = output.toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      throw new ParameterException(
          spec.commandLine(),
          "--out " + output + ": directory " + parent + " does not exist; create it first");
    }
    if (!Files.exists(output)) {
      return;
    }
    for (Path input : inputs) {
      if (Files.exists(input) && Files.isSameFile(output, input)) {
        throw new ParameterException(
            spec.commandLine(),
            "--out "
                + output
                + " is the input file "
                + input
                + "; writing it would replace the input, so give another path");
      }
    }
  }

  /** Writes {@code bytes} to a temporary file beside {@code target}, then renames it. */
  static void writeAtomically(Path target, byte[] bytes) throws IOException {
    Path temporary = temporarySibling(target);
    try {
      Files.write(temporary, bytes);
      Files.move(temporary, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  private static Path temporarySibling(Path target) {
    Path absolute = target.toAbsolutePath();
    return absolute.resolveSibling("." + absolute.getFileName() + ".partial");
  }

  static String sha256(byte[] bytes) {
    try {
      return "sha256:"
          + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  static String utf8(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
