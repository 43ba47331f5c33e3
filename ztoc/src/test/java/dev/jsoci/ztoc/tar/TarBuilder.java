package dev.jsoci.ztoc.tar;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Writes tar archives byte by byte for tests, including shapes that no tar program writes: any type
 * flag, base-256 numbers, raw field bytes, broken checksums and several meta headers in a row.
 */
final class TarBuilder {
  static final int BLOCK = 512;

  /** Header layouts, chosen by the magic, version and trailer written into the block. */
  enum Format {
    V7,
    USTAR,
    GNU,
    STAR
  }

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final List<Integer> headerOffsets = new ArrayList<>();

  /** Returns a regular file header ({@code '0'}) in USTAR format, mode 0644, mtime 1700000000. */
  static Header fileHeader(String name, long size) {
    return new Header().name(name).typeflag('0').size(size);
  }

  static Header header(String name, char typeflag) {
    return new Header().name(name).typeflag(typeflag);
  }

  /** Appends a header followed by {@code data} and the padding to the next block. */
  TarBuilder entry(Header header, byte[] data) {
    headerOffsets.add(out.size());
    out.writeBytes(header.toBlock());
    out.writeBytes(data);
    pad();
    return this;
  }

  /** Appends a regular file whose contents are {@code size} bytes of a repeating pattern. */
  TarBuilder file(String name, int size) {
    return entry(fileHeader(name, size), pattern(size));
  }

  /** Appends a header block without data, whatever size it declares. */
  TarBuilder header(Header header) {
    headerOffsets.add(out.size());
    out.writeBytes(header.toBlock());
    return this;
  }

  /** Appends a pax extended header ({@code x}) with the given records. */
  TarBuilder pax(PaxRecordBytes... records) {
    ByteArrayOutputStream payload = new ByteArrayOutputStream();
    for (PaxRecordBytes record : records) {
      payload.writeBytes(record.encode());
    }
    return paxPayload('x', payload.toByteArray());
  }

  /** Appends a meta header of type {@code typeflag} whose data is {@code payload} as given. */
  TarBuilder paxPayload(char typeflag, byte[] payload) {
    return entry(header("./PaxHeaders/x", typeflag).size(payload.length), payload);
  }

  /** Appends a GNU long name header ({@code L}) whose data is {@code name} and a NUL. */
  TarBuilder longName(byte[] name) {
    return entry(
        header("././@LongLink", 'L').format(Format.GNU).size(name.length + 1),
        Arrays.copyOf(name, name.length + 1));
  }

  /** Appends a GNU long link name header ({@code K}) whose data is {@code name} and a NUL. */
  TarBuilder longLinkname(byte[] name) {
    return entry(
        header("././@LongLink", 'K').format(Format.GNU).size(name.length + 1),
        Arrays.copyOf(name, name.length + 1));
  }

  TarBuilder raw(byte[] bytes) {
    out.writeBytes(bytes);
    return this;
  }

  TarBuilder zeroBlock() {
    out.writeBytes(new byte[BLOCK]);
    return this;
  }

  /** Appends the end-of-archive marker, two zero blocks. */
  TarBuilder end() {
    return zeroBlock().zeroBlock();
  }

  /** Pads with zeros to a multiple of {@code recordSize}, as tar programs pad to 10240 bytes. */
  TarBuilder padTo(int recordSize) {
    int rest = out.size() % recordSize;
    if (rest != 0) {
      out.writeBytes(new byte[recordSize - rest]);
    }
    return this;
  }

  int size() {
    return out.size();
  }

  /** Returns the offsets of every header block written by {@link #entry} or {@link #header}. */
  List<Integer> headerOffsets() {
    return List.copyOf(headerOffsets);
  }

  byte[] toByteArray() {
    return out.toByteArray();
  }

  private void pad() {
    int rest = out.size() % BLOCK;
    if (rest != 0) {
      out.writeBytes(new byte[BLOCK - rest]);
    }
  }

  /** Returns {@code size} bytes of a pattern that never forms a zero block. */
  static byte[] pattern(int size) {
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) ('a' + i % 26);
    }
    return data;
  }

  static byte[] bytes(String text) {
    return text.getBytes(UTF_8);
  }

  /**
   * Encodes {@code value} in base-256 over {@code width} bytes, as GNU tar does for large values.
   */
  static byte[] base256(long value, int width) {
    byte[] field = new byte[width];
    long rest = value;
    for (int i = width - 1; i >= 0; i--) {
      field[i] = (byte) rest;
      rest >>= 8;
    }
    field[0] |= (byte) 0x80;
    return field;
  }

  /** Recomputes the checksum of the header block at {@code offset} of {@code tar}. */
  static void fixChecksum(byte[] tar, int offset) {
    Arrays.fill(tar, offset + 148, offset + 156, (byte) ' ');
    long sum = 0;
    for (int i = 0; i < BLOCK; i++) {
      sum += tar[offset + i] & 0xff;
    }
    byte[] field = String.format("%06o", sum).getBytes(UTF_8);
    System.arraycopy(field, 0, tar, offset + 148, 6);
    tar[offset + 154] = 0;
    tar[offset + 155] = ' ';
  }

  /** One pax record; {@link #encode} computes its length prefix. */
  record PaxRecordBytes(byte[] key, byte[] value) {
    static PaxRecordBytes of(String key, String value) {
      return new PaxRecordBytes(bytes(key), bytes(value));
    }

    byte[] encode() {
      int body = key.length + value.length + 3;
      int length = body + Integer.toString(body).length();
      if (Integer.toString(length).length() != Integer.toString(body).length()) {
        length = body + Integer.toString(length).length();
      }
      ByteArrayOutputStream record = new ByteArrayOutputStream();
      record.writeBytes(bytes(length + " "));
      record.writeBytes(key);
      record.write('=');
      record.writeBytes(value);
      record.write('\n');
      return record.toByteArray();
    }
  }

  /**
   * The fields of one header block; numbers are written as octal unless a raw field replaces them.
   */
  static final class Header {
    private byte[] name = new byte[0];
    private long mode = 0644;
    private long uid = 1000;
    private long gid = 1000;
    private long size;
    private long mtime = 1_700_000_000L;
    private byte typeflag = '0';
    private byte[] linkname = new byte[0];
    private Format format = Format.USTAR;
    private byte[] uname = bytes("user");
    private byte[] gname = bytes("group");
    private long devmajor;
    private long devminor;
    private byte[] prefix = new byte[0];
    private final List<Object[]> rawFields = new ArrayList<>();
    private boolean signedChecksum;
    private byte[] checksumField;

    Header name(String value) {
      return name(bytes(value));
    }

    Header name(byte[] value) {
      name = value.clone();
      return this;
    }

    Header mode(long value) {
      mode = value;
      return this;
    }

    Header uid(long value) {
      uid = value;
      return this;
    }

    Header gid(long value) {
      gid = value;
      return this;
    }

    Header size(long value) {
      size = value;
      return this;
    }

    Header mtime(long value) {
      mtime = value;
      return this;
    }

    Header typeflag(char value) {
      typeflag = (byte) value;
      return this;
    }

    Header linkname(String value) {
      linkname = bytes(value);
      return this;
    }

    Header format(Format value) {
      format = value;
      return this;
    }

    Header uname(String value) {
      uname = bytes(value);
      return this;
    }

    Header gname(String value) {
      gname = bytes(value);
      return this;
    }

    Header devices(long major, long minor) {
      devmajor = major;
      devminor = minor;
      return this;
    }

    Header prefix(String value) {
      prefix = bytes(value);
      return this;
    }

    /** Writes {@code bytes} at {@code offset} of the block after every other field. */
    Header raw(int offset, byte[] bytes) {
      rawFields.add(new Object[] {offset, bytes.clone()});
      return this;
    }

    /** Writes the checksum as the sum of signed bytes, as old Sun tar did. */
    Header signedChecksum() {
      signedChecksum = true;
      return this;
    }

    /** Writes these bytes into the checksum field instead of the computed sum. */
    Header checksumField(byte[] value) {
      checksumField = value.clone();
      return this;
    }

    byte[] toBlock() {
      byte[] block = new byte[BLOCK];
      put(block, 0, 100, name);
      octal(block, 100, 8, mode);
      octal(block, 108, 8, uid);
      octal(block, 116, 8, gid);
      octal(block, 124, 12, size);
      octal(block, 136, 12, mtime);
      block[156] = typeflag;
      put(block, 157, 100, linkname);
      switch (format) {
        case V7:
          break;
        case USTAR:
          put(block, 257, 6, bytes("ustar\0"));
          put(block, 263, 2, bytes("00"));
          ustarFields(block);
          put(block, 345, 155, prefix);
          break;
        case GNU:
          put(block, 257, 6, bytes("ustar "));
          put(block, 263, 2, bytes(" \0"));
          ustarFields(block);
          break;
        case STAR:
          put(block, 257, 6, bytes("ustar\0"));
          put(block, 263, 2, bytes("00"));
          ustarFields(block);
          put(block, 345, 131, prefix);
          put(block, 508, 4, bytes("tar\0"));
          break;
      }
      for (Object[] field : rawFields) {
        byte[] bytes = (byte[]) field[1];
        System.arraycopy(bytes, 0, block, (Integer) field[0], bytes.length);
      }

      Arrays.fill(block, 148, 156, (byte) ' ');
      long sum = 0;
      for (byte b : block) {
        sum += signedChecksum ? b : b & 0xff;
      }
      if (checksumField != null) {
        put(block, 148, 8, checksumField);
      } else {
        put(block, 148, 8, bytes(String.format("%06o\0 ", sum)));
      }
      return block;
    }

    private void ustarFields(byte[] block) {
      put(block, 265, 32, uname);
      put(block, 297, 32, gname);
      octal(block, 329, 8, devmajor);
      octal(block, 337, 8, devminor);
    }

    private static void put(byte[] block, int offset, int width, byte[] value) {
      if (value.length > width) {
        throw new IllegalArgumentException("field of " + width + " bytes gets " + value.length);
      }
      System.arraycopy(value, 0, block, offset, value.length);
    }

    private static void octal(byte[] block, int offset, int width, long value) {
      String digits = String.format("%0" + (width - 1) + "o", value);
      if (value < 0 || digits.length() > width - 1) {
        put(block, offset, width, base256(value, width));
      } else {
        put(block, offset, width, bytes(digits + "\0"));
      }
    }
  }
}
