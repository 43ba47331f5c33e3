package dev.jsoci.ztoc.internal.fbs;

/** A flatbuffer whose offsets or lengths point outside the buffer or are otherwise invalid. */
public final class FlatBufferException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public FlatBufferException(String message) {
    super(message);
  }
}
