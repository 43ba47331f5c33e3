package dev.jsoci.ztoc.internal.fbs;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Bounds-checked access to one table of a flatbuffer.
 *
 * <p>The zTOC has no generated accessor classes: its schema is small and fixed, and the reader
 * must survive arbitrary bytes. Every offset read here is checked against the buffer before it
 * is followed, and every length before it is allocated, so a corrupt buffer ends in a
 * {@link FlatBufferException} and never in a huge allocation or an endless loop. Offsets are
 * unsigned 32-bit values relative to where they are stored (flatbuffers binary format).
 */
public final class FlatTable {
  private final ByteBuffer buffer;
  private final int position;
  private final int vtablePosition;
  private final int vtableLength;

  private FlatTable(ByteBuffer buffer, int position) {
    this.buffer = buffer;
    this.position = position;
    checkRange(buffer, position, 4, "table");
    long vtable = (long) position - buffer.getInt(position);
    checkRange(buffer, vtable, 4, "vtable");
    this.vtablePosition = (int) vtable;
    this.vtableLength = Short.toUnsignedInt(buffer.getShort(vtablePosition));
    checkRange(buffer, vtablePosition, vtableLength, "vtable");
    if (vtableLength < 4 || vtableLength % 2 != 0) {
      throw new FlatBufferException("invalid vtable length " + vtableLength + " at " + vtablePosition);
    }
  }

  /** Returns the root table of a flatbuffer without file identifier or size prefix. */
  public static FlatTable root(byte[] bytes) {
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    checkRange(buffer, 0, 4, "root offset");
    return new FlatTable(buffer, offsetTarget(buffer, 0));
  }

  private static int offsetTarget(ByteBuffer buffer, int at) {
    long target = at + Integer.toUnsignedLong(buffer.getInt(at));
    checkRange(buffer, target, 1, "offset target");
    return (int) target;
  }

  private static void checkRange(ByteBuffer buffer, long start, long length, String what) {
    if (start < 0 || length < 0 || start + length > buffer.limit()) {
      throw new FlatBufferException(
          what + " at " + start + " (+" + length + ") outside buffer of " + buffer.limit() + " bytes");
    }
  }

  /** Returns the absolute position of field {@code slot}, or 0 when the field is absent. */
  private int fieldPosition(int slot) {
    int entry = 4 + 2 * slot;
    if (entry >= vtableLength) {
      return 0;
    }
    int relative = Short.toUnsignedInt(buffer.getShort(vtablePosition + entry));
    return relative == 0 ? 0 : position + relative;
  }

  public boolean has(int slot) {
    return fieldPosition(slot) != 0;
  }

  public long getLong(int slot, long defaultValue) {
    int at = fieldPosition(slot);
    if (at == 0) {
      return defaultValue;
    }
    checkRange(buffer, at, 8, "long field " + slot);
    return buffer.getLong(at);
  }

  public int getInt(int slot, int defaultValue) {
    int at = fieldPosition(slot);
    if (at == 0) {
      return defaultValue;
    }
    checkRange(buffer, at, 4, "int field " + slot);
    return buffer.getInt(at);
  }

  public byte getByte(int slot, byte defaultValue) {
    int at = fieldPosition(slot);
    if (at == 0) {
      return defaultValue;
    }
    checkRange(buffer, at, 1, "byte field " + slot);
    return buffer.get(at);
  }

  /** Returns the bytes of string or byte-vector field {@code slot}, or null when absent. */
  public byte[] getBytes(int slot) {
    int at = fieldPosition(slot);
    if (at == 0) {
      return null;
    }
    checkRange(buffer, at, 4, "field " + slot);
    return readByteVector(offsetTarget(buffer, at));
  }

  /** Returns table field {@code slot}, or null when absent. */
  public FlatTable getTable(int slot) {
    int at = fieldPosition(slot);
    if (at == 0) {
      return null;
    }
    checkRange(buffer, at, 4, "field " + slot);
    return new FlatTable(buffer, offsetTarget(buffer, at));
  }

  /** Returns the length of vector field {@code slot}, or 0 when absent. */
  public int vectorLength(int slot) {
    int vector = vectorPosition(slot);
    return vector == 0 ? 0 : buffer.getInt(vector);
  }

  /** Returns element {@code index} of a vector of tables. */
  public FlatTable getTableElement(int slot, int index) {
    return new FlatTable(buffer, offsetTarget(buffer, elementPosition(slot, index)));
  }

  /** Returns the bytes of element {@code index} of a vector of strings. */
  public byte[] getBytesElement(int slot, int index) {
    return readByteVector(offsetTarget(buffer, elementPosition(slot, index)));
  }

  private int vectorPosition(int slot) {
    int at = fieldPosition(slot);
    if (at == 0) {
      return 0;
    }
    checkRange(buffer, at, 4, "field " + slot);
    int vector = offsetTarget(buffer, at);
    checkRange(buffer, vector, 4, "vector length");
    long length = Integer.toUnsignedLong(buffer.getInt(vector));
    checkRange(buffer, vector + 4L, length * 4, "vector of " + length + " offsets");
    return vector;
  }

  private int elementPosition(int slot, int index) {
    int vector = vectorPosition(slot);
    if (vector == 0 || index < 0 || index >= buffer.getInt(vector)) {
      throw new FlatBufferException("vector index " + index + " out of range in field " + slot);
    }
    return vector + 4 + 4 * index;
  }

  private byte[] readByteVector(int vector) {
    checkRange(buffer, vector, 4, "vector length");
    long length = Integer.toUnsignedLong(buffer.getInt(vector));
    checkRange(buffer, vector + 4L, length, "vector of " + length + " bytes");
    byte[] bytes = new byte[(int) length];
    buffer.get(vector + 4, bytes);
    return bytes;
  }
}
