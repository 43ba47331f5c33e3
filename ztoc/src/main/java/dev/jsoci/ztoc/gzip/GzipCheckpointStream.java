package dev.jsoci.ztoc.gzip;

import dev.jsoci.ztoc.LayerFormatException;
import dev.jsoci.ztoc.tar.ExactlySkippable;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32;
import org.jspecify.annotations.Nullable;

/**
 * Inflates a gzip layer blob and, in the same pass, records the checkpoints and span digests of its
 * zTOC.
 *
 * <p>{@link #read} returns the concatenated output of all gzip members (the tar stream). Once it
 * has returned -1, the whole blob has been consumed, every member's CRC-32 and ISIZE checked, and
 * {@link #checkpoints()}, {@link #spanDigests()}, {@link #compressedSize()} and {@link
 * #toZinfo(long)} are available.
 *
 * <h2>Choosing checkpoints</h2>
 *
 * <p>Candidates are the end of each gzip member header and the end of each deflate block except a
 * member's final block. This class parses headers and trailers (RFC 1952) itself and has zlib
 * inflate the raw deflate data with {@code Z_BLOCK}, which returns at every block end. A candidate
 * at uncompressed offset {@code out} becomes a checkpoint when it is the first one (right after the
 * first header, {@code out == 0}) or when {@code out - last > spanSize}, where {@code last} is the
 * {@code out} of the previous checkpoint. Later candidates at {@code out == 0} (empty blocks before
 * any data, empty members) are skipped, so checkpoint offsets strictly increase. A checkpoint
 * records {@code in} = blob bytes consumed, {@code bits} = unused high bits of byte {@code in - 1}
 * (zlib's {@code data_type & 7}), {@code out}, and the 32 KiB of output before {@code out}. The
 * window runs across member boundaries and is left-padded with zeros at the start.
 *
 * <h2>Span digests</h2>
 *
 * <p>Span {@code i} covers blob bytes {@code [in_i - (bits_i > 0 ? 1 : 0), in_{i+1})}, and the last
 * span runs to the end of the blob, trailers and later members included. Each span's SHA-256 is fed
 * exactly the bytes consumed while the span was current. When a checkpoint starts inside a byte,
 * that byte is fed to both spans.
 *
 * <p>The stream keeps every checkpoint's 32 KiB window in heap memory: about 32 MiB for a 1 GiB
 * layer with 1 MiB spans.
 *
 * <p>Warning: the stream uses about 300 KiB of native memory, freed when {@code read} returns -1,
 * when it throws, or on {@link #close()}. Close a stream that is abandoned early. Not thread-safe.
 */
public final class GzipCheckpointStream extends InputStream implements ExactlySkippable {
  private static final int INPUT_BUFFER_SIZE = 256 * 1024;
  private static final int OUTPUT_CHUNK_SIZE = 256 * 1024;
  private static final int WINDOW_SIZE = GzipCheckpoint.WINDOW_SIZE;

  // Bits of zlib's data_type after inflate (zlib.h, "inflate").
  private static final int UNUSED_BITS_MASK = 7;
  private static final int FINAL_BLOCK_FLAG = 64;
  private static final int BOUNDARY_FLAG = 128;

  // Header flags (RFC 1952 section 2.3.1).
  private static final int FHCRC = 0x02;
  private static final int FEXTRA = 0x04;
  private static final int FNAME = 0x08;
  private static final int FCOMMENT = 0x10;
  private static final int RESERVED_FLAGS = 0xe0;

  private static final HexFormat HEX = HexFormat.of();

  /** The part of the blob the pass reads next. */
  private enum Phase {
    /** A member header, or the end of the blob. */
    MEMBER_START,
    /** The deflate data of a member. */
    DEFLATE,
    /** The 8-byte trailer of a member. */
    TRAILER,
    /** Nothing: the blob was consumed and checked. */
    END
  }

  private final InputStream compressed;
  private final long spanSize;
  private final String layer;

  // Native resources; null once released.
  private @Nullable ZlibInflater inflater;
  private @Nullable CompressedInput input;
  private @Nullable NativeBuffer nativeOutput;

  // output[0, WINDOW_SIZE) starts as zeros, and after a slide contains the 32 KiB before the
  // chunk. output[WINDOW_SIZE, outputEnd) is the chunk zlib wrote, read up to outputDelivered.
  private final byte[] output = new byte[WINDOW_SIZE + OUTPUT_CHUNK_SIZE];
  private int outputEnd = WINDOW_SIZE;
  private int outputDelivered = WINDOW_SIZE;
  private long produced;
  private long compressedSize = -1;

  private Phase phase = Phase.MEMBER_START;
  private int memberCount;
  private long memberStart;
  private long memberProduced;
  private final CRC32 memberCrc = new CRC32();
  private final CRC32 headerCrc = new CRC32();

  private final List<GzipCheckpoint> checkpoints = new ArrayList<>();
  private long lastCheckpointOut;
  private final List<String> spanDigests = new ArrayList<>();

  private @Nullable LayerFormatException failure;
  private boolean closed;

  /**
   * Creates a stream over a gzip blob. Nothing is read until the first {@link #read}.
   *
   * @param compressed the layer blob from its first byte; closed by {@link #close()}
   * @param spanSize the minimum uncompressed bytes between checkpoints, greater than zero
   * @param layer the layer's name for error messages (a digest or a file path)
   * @throws IllegalArgumentException if {@code spanSize <= 0}
   * @throws UnsatisfiedLinkError if the system zlib cannot be loaded
   */
  public GzipCheckpointStream(InputStream compressed, long spanSize, String layer) {
    this(compressed, spanSize, layer, 1);
  }

  private GzipCheckpointStream(
      InputStream compressed, long spanSize, String layer, long minimumSpanSize) {
    if (spanSize < minimumSpanSize) {
      throw new IllegalArgumentException(
          "spanSize is " + spanSize + ", expected >= " + minimumSpanSize);
    }
    this.compressed = Objects.requireNonNull(compressed, "compressed");
    this.spanSize = spanSize;
    this.layer = Objects.requireNonNull(layer, "layer");

    try {
      inflater = ZlibInflater.newRawInflater();
      input = new CompressedInput(compressed, INPUT_BUFFER_SIZE);
      nativeOutput = NativeBuffer.allocate(Zlib.get(), OUTPUT_CHUNK_SIZE);
    } catch (RuntimeException | Error e) {
      releaseNative();
      throw e;
    }
  }

  /**
   * Returns a stream that also accepts span size 0, which makes every candidate with growing output
   * a checkpoint. SOCI tooling accepts 0 for gzip, but the public constructor rejects it.
   */
  static GzipCheckpointStream newAllowingZeroSpanSize(
      InputStream compressed, long spanSize, String layer) {
    return new GzipCheckpointStream(compressed, spanSize, layer, 0);
  }

  @Override
  public int read() throws IOException {
    if (!fillOutput()) {
      return -1;
    }
    return output[outputDelivered++] & 0xff;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    Objects.checkFromIndexSize(offset, length, buffer.length);
    if (length == 0) {
      return 0;
    }
    if (!fillOutput()) {
      return -1;
    }
    int count = Math.min(length, outputEnd - outputDelivered);
    System.arraycopy(output, outputDelivered, buffer, offset, count);
    outputDelivered += count;
    return count;
  }

  /**
   * Skips up to {@code count} inflated bytes without copying them, inflating more when no output is
   * left, and returns the number skipped: 0 only at the end of the blob or for {@code count <= 0}.
   */
  @Override
  public long skip(long count) throws IOException {
    if (count <= 0 || !fillOutput()) {
      return 0;
    }
    int skipped = (int) Math.min(count, outputEnd - outputDelivered);
    outputDelivered += skipped;
    return skipped;
  }

  /** Returns the number of inflated bytes that can be read without inflating more. */
  @Override
  public int available() throws IOException {
    checkNotClosed();
    return outputEnd - outputDelivered;
  }

  /**
   * Frees the native memory and closes the compressed stream. The checkpoints stay available if
   * {@code read} had returned -1.
   */
  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      releaseNative();
      compressed.close();
    }
  }

  /**
   * Returns the checkpoints in stream order. The first one is right after the first gzip header.
   *
   * @throws IllegalStateException unless {@code read} has returned -1
   */
  public List<GzipCheckpoint> checkpoints() {
    checkFinished();
    return List.copyOf(checkpoints);
  }

  /**
   * Returns one digest per checkpoint, {@code sha256:} and 64 lower-case hex digits: the SHA-256 of
   * each span's compressed byte range.
   *
   * @throws IllegalStateException unless {@code read} has returned -1
   */
  public List<String> spanDigests() {
    checkFinished();
    return List.copyOf(spanDigests);
  }

  /**
   * Returns the size of the blob in bytes.
   *
   * @throws IllegalStateException unless {@code read} has returned -1
   */
  public long compressedSize() {
    checkFinished();
    return compressedSize;
  }

  /**
   * Returns the number of uncompressed bytes of all members together. It may exceed the tar archive
   * size, because of record padding after the end-of-archive marker.
   *
   * @throws IllegalStateException unless {@code read} has returned -1
   */
  public long uncompressedSize() {
    checkFinished();
    return produced;
  }

  /** Returns the span size this stream was created with. */
  public long spanSize() {
    return spanSize;
  }

  /**
   * Returns the span layout of the blob.
   *
   * @param uncompressedArchiveSize the offset just after the tar end-of-archive marker, as found by
   *     the tar reader, which is the uncompressed end of the last span
   * @throws IllegalStateException unless {@code read} has returned -1
   * @throws IllegalArgumentException if {@code uncompressedArchiveSize} is negative
   */
  public GzipZinfo toZinfo(long uncompressedArchiveSize) {
    checkFinished();
    return GzipZinfo.of(checkpoints, spanSize, compressedSize, uncompressedArchiveSize);
  }

  /** Inflates until unread output exists or the blob ends. Returns false at the end. */
  private boolean fillOutput() throws IOException {
    checkNotClosed();
    if (failure != null) {
      throw failure;
    }
    try {
      while (outputDelivered == outputEnd) {
        switch (phase) {
          case MEMBER_START:
            readHeaderOrFinish();
            break;
          case DEFLATE:
            inflateOnce();
            break;
          case TRAILER:
            readTrailer();
            break;
          default:
            return false;
        }
      }
      return true;
    } catch (LayerFormatException e) {
      failure = e;
      releaseNative();
      throw e;
    } catch (IOException | RuntimeException | Error e) {
      releaseNative();
      throw e;
    }
  }

  /** Reads the next member header (RFC 1952 section 2.3), or ends the pass at the blob end. */
  private void readHeaderOrFinish() throws IOException {
    CompressedInput in = requireInput();
    in.fill(2);
    if (in.available() == 0) {
      if (memberCount == 0) {
        throw formatError(0, "empty blob, expected a gzip stream");
      }
      finish();
      return;
    }
    checkMagic(in);

    // ID1 ID2 CM FLG MTIME(4) XFL OS, then the optional fields that FLG announces.
    memberStart = in.consumed();
    headerCrc.reset();
    int[] fixed = new int[GzipHeader.FIXED_LENGTH];
    for (int i = 0; i < fixed.length; i++) {
      fixed[i] = readHeaderByte(in);
    }
    if (fixed[2] != 8) {
      throw formatError(
          memberStart + 2,
          "unknown compression method " + fixed[2] + " in gzip header, expected 8 (deflate)");
    }
    int flags = fixed[3];
    if ((flags & RESERVED_FLAGS) != 0) {
      throw formatError(
          memberStart + 3, "reserved flag bits set in gzip header: flags " + hexByte(flags));
    }
    if ((flags & FEXTRA) != 0) {
      int extraLength = readHeaderByte(in) | readHeaderByte(in) << 8;
      if (!in.skip(extraLength, headerCrc)) {
        throw truncated("gzip header");
      }
    }
    if ((flags & FNAME) != 0 && !in.skipPastZero(headerCrc)) {
      throw truncated("gzip header");
    }
    if ((flags & FCOMMENT) != 0 && !in.skipPastZero(headerCrc)) {
      throw truncated("gzip header");
    }
    if ((flags & FHCRC) != 0) {
      long computed = headerCrc.getValue() & 0xffff;
      long crcOffset = in.consumed();
      long stored = readHeaderByte(in) | readHeaderByte(in) << 8;
      if (stored != computed) {
        throw formatError(
            crcOffset,
            String.format(
                "crc16 mismatch in gzip header: stored %04x, computed %04x", stored, computed));
      }
    }

    // The header end is a candidate. The raw decoder starts the member with an empty window.
    if (memberCount > 0) {
      requireInflater().reset();
    }
    memberProduced = 0;
    memberCrc.reset();
    phase = Phase.DEFLATE;
    considerCheckpoint(0);
  }

  /** Rejects anything but the gzip magic bytes, naming what the bytes look like instead. */
  private void checkMagic(CompressedInput in) throws LayerFormatException {
    int magic1 = in.peek(0);
    int magic2 = in.available() > 1 ? in.peek(1) : -1;
    if (magic1 == 0x1f && magic2 == 0x8b) {
      return;
    }
    if (magic1 == 0x1f && magic2 == -1) {
      throw formatError(in.consumed() + 1, "unexpected end of input in gzip magic bytes");
    }
    String found = magic2 == -1 ? hexByte(magic1) : hexByte(magic1) + " " + hexByte(magic2);
    if (memberCount > 0) {
      throw formatError(
          in.consumed(),
          "trailing data after the last gzip member: found " + found + ", expected 1f 8b");
    }
    if (magic2 != -1 && isZlibHeader(magic1, magic2)) {
      throw formatError(0, "zlib stream (header " + found + "), expected gzip magic 1f 8b");
    }
    throw formatError(0, "not a gzip stream: found " + found + ", expected magic 1f 8b");
  }

  /** Tells whether two bytes form a zlib header (RFC 1950 section 2.2): CM 8, valid FCHECK. */
  private static boolean isZlibHeader(int cmf, int flg) {
    return (cmf & 0x0f) == 8 && (cmf >>> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
  }

  private int readHeaderByte(CompressedInput in) throws IOException {
    int value = in.read(headerCrc);
    if (value < 0) {
      throw truncated("gzip header");
    }
    return value;
  }

  /** Calls inflate once with Z_BLOCK and handles the block end or error it reports. */
  private void inflateOnce() throws IOException {
    ZlibInflater zlib = requireInflater();
    CompressedInput in = requireInput();
    NativeBuffer out = requireNative(nativeOutput);
    in.fill(1);
    if (outputEnd == output.length) {
      slideWindow();
    }

    // Inflate into the native chunk at the offset of the Java copy, then copy the output over.
    int inputBefore = in.available();
    int outputOffset = outputEnd - WINDOW_SIZE;
    int outputBefore = OUTPUT_CHUNK_SIZE - outputOffset;
    zlib.setInput(in.address(), inputBefore);
    zlib.setOutput(out.address() + outputOffset, outputBefore);
    int result = zlib.inflate(Zlib.Z_BLOCK);
    int inputUsed = inputBefore - zlib.availableInput();
    int outputMade = outputBefore - zlib.availableOutput();
    in.consume(inputUsed, null);
    if (outputMade > 0) {
      out.get(outputOffset, output, outputEnd, outputMade);
      memberCrc.update(output, outputEnd, outputMade);
      outputEnd += outputMade;
      produced += outputMade;
      memberProduced += outputMade;
    }

    switch (result) {
      case Zlib.Z_OK:
      case Zlib.Z_BUF_ERROR:
        int dataType = zlib.dataType();
        if ((dataType & BOUNDARY_FLAG) != 0 && (dataType & FINAL_BLOCK_FLAG) == 0) {
          considerCheckpoint(dataType & UNUSED_BITS_MASK);
        }
        if (inputUsed == 0 && outputMade == 0) {
          if (in.available() == 0 && in.endOfInput()) {
            throw truncated("deflate data");
          }
          throw new IllegalStateException(
              "zlib inflate made no progress with " + inputBefore + " bytes of input");
        }
        return;
      case Zlib.Z_STREAM_END:
        // zlib drops the unused bits of the final block's last byte, so the trailer starts at
        // the next unconsumed byte (RFC 1952 section 2.3).
        phase = Phase.TRAILER;
        return;
      case Zlib.Z_DATA_ERROR:
        String message = zlib.message();
        throw formatError(
            in.consumed(), "corrupt deflate data: " + (message == null ? "invalid" : message));
      case Zlib.Z_MEM_ERROR:
        throw new OutOfMemoryError("zlib inflate could not allocate its window");
      default:
        throw new IllegalStateException("zlib inflate returned " + result);
    }
  }

  /** Reads and checks the CRC-32 and ISIZE that end a member (RFC 1952 section 2.3.1). */
  private void readTrailer() throws IOException {
    CompressedInput in = requireInput();
    long trailerStart = in.consumed();
    if (!in.skip(4, null)) {
      throw truncated("gzip trailer");
    }
    long storedCrc = in.lastIntLittleEndian();
    if (storedCrc != memberCrc.getValue()) {
      throw formatError(
          trailerStart,
          String.format(
              "crc32 mismatch in gzip trailer: stored %08x, computed %08x",
              storedCrc, memberCrc.getValue()));
    }
    if (!in.skip(4, null)) {
      throw truncated("gzip trailer");
    }
    long storedSize = in.lastIntLittleEndian();
    long expectedSize = memberProduced & 0xffffffffL;
    if (storedSize != expectedSize) {
      throw formatError(
          trailerStart + 4,
          "isize mismatch in gzip trailer: stored " + storedSize + ", expected " + expectedSize);
    }
    memberCount++;
    phase = Phase.MEMBER_START;
  }

  /** Applies the checkpoint rule to a candidate at the current position. */
  private void considerCheckpoint(int bits) {
    boolean accept = checkpoints.isEmpty() || produced - lastCheckpointOut > spanSize;
    if (!accept) {
      return;
    }

    CompressedInput in = requireInput();
    byte[] window = new byte[WINDOW_SIZE];
    System.arraycopy(output, outputEnd - WINDOW_SIZE, window, 0, WINDOW_SIZE);
    checkpoints.add(GzipCheckpoint.ofOwnedWindow(in.consumed(), produced, bits, window));
    lastCheckpointOut = produced;

    // The previous span ends here. The next one starts with byte in - 1 when they share it.
    MessageDigest next = newSha256();
    if (bits > 0) {
      next.update((byte) in.lastByte());
    }
    MessageDigest previous = in.swapDigest(next);
    if (previous != null) {
      spanDigests.add(formatDigest(previous));
    }
  }

  /** Ends the pass after the last member's trailer. */
  private void finish() {
    CompressedInput in = requireInput();
    MessageDigest last = in.swapDigest(null);
    if (last != null) {
      spanDigests.add(formatDigest(last));
    }
    compressedSize = in.consumed();
    phase = Phase.END;
    releaseNative();
  }

  /** Moves the last 32 KiB of output to the front, once every byte has been read. */
  private void slideWindow() {
    System.arraycopy(output, outputEnd - WINDOW_SIZE, output, 0, WINDOW_SIZE);
    outputEnd = WINDOW_SIZE;
    outputDelivered = WINDOW_SIZE;
  }

  private LayerFormatException truncated(String part) {
    return formatError(
        requireInput().consumed(),
        "unexpected end of input in the " + part + " of the member at byte " + memberStart);
  }

  private LayerFormatException formatError(long offset, String reason) {
    return new LayerFormatException(layer, offset, reason);
  }

  private static String hexByte(int value) {
    return HEX.toHexDigits((byte) value);
  }

  private static String formatDigest(MessageDigest digest) {
    return "sha256:" + HEX.formatHex(digest.digest());
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform provides SHA-256", e);
    }
  }

  private ZlibInflater requireInflater() {
    ZlibInflater current = inflater;
    if (current == null) {
      throw new IllegalStateException("native resources already released");
    }
    return current;
  }

  private CompressedInput requireInput() {
    CompressedInput current = input;
    if (current == null) {
      throw new IllegalStateException("native resources already released");
    }
    return current;
  }

  private static NativeBuffer requireNative(@Nullable NativeBuffer buffer) {
    if (buffer == null) {
      throw new IllegalStateException("native resources already released");
    }
    return buffer;
  }

  /** Frees the native memory, keeping the count of consumed bytes. */
  private void releaseNative() {
    if (inflater != null) {
      inflater.close();
      inflater = null;
    }
    if (input != null) {
      input.close();
    }
    if (nativeOutput != null) {
      nativeOutput.close();
      nativeOutput = null;
    }
  }

  private void checkNotClosed() throws IOException {
    if (closed) {
      throw new IOException("stream closed");
    }
  }

  private void checkFinished() {
    if (phase != Phase.END) {
      throw new IllegalStateException("the blob is not fully read: read() has not returned -1");
    }
  }
}
