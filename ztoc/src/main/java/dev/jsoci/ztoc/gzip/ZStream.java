package dev.jsoci.ztoc.gzip;

import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/**
 * zlib's {@code z_stream}, with the field order and C types of zlib.h; jnr-ffi computes the offsets
 * and size for the running platform.
 */
final class ZStream extends Struct {
  final Pointer nextIn = new Pointer();
  final Unsigned32 availIn = new Unsigned32();
  final UnsignedLong totalIn = new UnsignedLong();
  final Pointer nextOut = new Pointer();
  final Unsigned32 availOut = new Unsigned32();
  final UnsignedLong totalOut = new UnsignedLong();
  final Pointer msg = new Pointer();
  final Pointer state = new Pointer();
  final Pointer zalloc = new Pointer();
  final Pointer zfree = new Pointer();
  final Pointer opaque = new Pointer();
  final Signed32 dataType = new Signed32();
  final UnsignedLong adler = new UnsignedLong();
  final UnsignedLong reserved = new UnsignedLong();

  ZStream(Runtime runtime) {
    super(runtime);
  }
}
