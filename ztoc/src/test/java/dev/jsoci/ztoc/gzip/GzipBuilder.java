package dev.jsoci.ztoc.gzip;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Writes gzip blobs for tests: members with chosen header fields, deflate data with flushes at
 * chosen points (each flush ends a deflate block), and levels that may change between writes. Also
 * keeps the uncompressed bytes written so far.
 */
final class GzipBuilder {
  static final int FTEXT = 0x01;
  static final int FHCRC = 0x02;
  static final int FEXTRA = 0x04;
  static final int FNAME = 0x08;
  static final int FCOMMENT = 0x10;

  private final ByteArrayOutputStream blob = new ByteArrayOutputStream();
  private final ByteArrayOutputStream uncompressed = new ByteArrayOutputStream();
  private final byte[] buffer = new byte[64 * 1024];
  private Deflater deflater;
  private final CRC32 memberCrc = new CRC32();
  private long memberSize;

  /** Starts a member with a minimal 10-byte header. */
  GzipBuilder startMember(int level) {
    return startMember(level, minimalHeader());
  }

  /** Starts a member with the given header bytes. */
  GzipBuilder startMember(int level, byte[] header) {
    if (deflater != null) {
      throw new IllegalStateException("member not finished");
    }
    blob.writeBytes(header);
    deflater = new Deflater(level, true);
    memberCrc.reset();
    memberSize = 0;
    return this;
  }

  /** Changes the strategy (a {@link Deflater} strategy constant) for the data written next. */
  GzipBuilder strategy(int strategy) {
    deflater.setStrategy(strategy);
    return this;
  }

  /** Changes the level for the data written next. */
  GzipBuilder level(int level) {
    // Deflater applies a new level at the next deflate call and may end a block there.
    deflater.setLevel(level);
    return this;
  }

  /**
   * Deflates {@code data}, then flushes with {@code flush}: {@link Deflater#NO_FLUSH}, {@link
   * Deflater#SYNC_FLUSH} or {@link Deflater#FULL_FLUSH} (the last two end the current block).
   */
  GzipBuilder write(byte[] data, int flush) {
    deflater.setInput(data);
    while (!deflater.needsInput()) {
      drain(Deflater.NO_FLUSH);
    }
    if (flush != Deflater.NO_FLUSH) {
      int count;
      do {
        count = drain(flush);
      } while (count == buffer.length);
    }
    memberCrc.update(data);
    memberSize += data.length;
    uncompressed.writeBytes(data);
    return this;
  }

  /** Ends the member's deflate data and writes its trailer. */
  GzipBuilder finishMember() {
    deflater.finish();
    while (!deflater.finished()) {
      drain(Deflater.NO_FLUSH);
    }
    deflater.end();
    deflater = null;
    writeIntLittleEndian(blob, (int) memberCrc.getValue());
    writeIntLittleEndian(blob, (int) memberSize);
    return this;
  }

  /** Appends raw bytes to the blob, outside any member. */
  GzipBuilder appendRaw(byte[] bytes) {
    blob.writeBytes(bytes);
    return this;
  }

  private int drain(int flush) {
    int count = deflater.deflate(buffer, 0, buffer.length, flush);
    blob.write(buffer, 0, count);
    return count;
  }

  /** Returns the blob written so far. */
  byte[] blob() {
    return blob.toByteArray();
  }

  /** Returns the uncompressed bytes of all members written so far. */
  byte[] uncompressed() {
    return uncompressed.toByteArray();
  }

  /** Returns the current blob length: the compressed offset of the next byte written. */
  int blobLength() {
    return blob.size();
  }

  /** Returns the 10-byte header without optional fields (MTIME 0, XFL 0, OS 3). */
  static byte[] minimalHeader() {
    return header(0, null, null, null);
  }

  /**
   * Returns a gzip header with the optional fields that are not null; {@code extraFlags} may add
   * FTEXT and FHCRC.
   */
  static byte[] header(int extraFlags, byte[] extra, String name, String comment) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int flags = extraFlags;
    if (extra != null) {
      flags |= FEXTRA;
    }
    if (name != null) {
      flags |= FNAME;
    }
    if (comment != null) {
      flags |= FCOMMENT;
    }
    out.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, (byte) flags, 0, 0, 0, 0, 0, 3});
    if (extra != null) {
      out.write(extra.length & 0xff);
      out.write(extra.length >>> 8);
      out.writeBytes(extra);
    }
    if (name != null) {
      out.writeBytes(name.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      out.write(0);
    }
    if (comment != null) {
      out.writeBytes(comment.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
      out.write(0);
    }
    if ((flags & FHCRC) != 0) {
      CRC32 crc = new CRC32();
      crc.update(out.toByteArray());
      out.write((int) crc.getValue() & 0xff);
      out.write((int) (crc.getValue() >>> 8) & 0xff);
    }
    return out.toByteArray();
  }

  static byte[] gzip(byte[] data) {
    return new GzipBuilder()
        .startMember(Deflater.DEFAULT_COMPRESSION)
        .write(data, Deflater.NO_FLUSH)
        .finishMember()
        .blob();
  }

  private static void writeIntLittleEndian(ByteArrayOutputStream out, int value) {
    out.write(value & 0xff);
    out.write((value >>> 8) & 0xff);
    out.write((value >>> 16) & 0xff);
    out.write((value >>> 24) & 0xff);
  }

  static String sha256(byte[] data, int from, int to) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      digest.update(data, from, to - from);
      return "sha256:" + HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  static byte[] resource(String name) {
    try (InputStream in = GzipBuilder.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalArgumentException("missing test resource " + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads the stream to its end and returns the bytes it produced. */
  static byte[] readAll(GzipCheckpointStream stream) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] chunk = new byte[7919];
    int count;
    while ((count = stream.read(chunk)) != -1) {
      out.write(chunk, 0, count);
    }
    return out.toByteArray();
  }
}
