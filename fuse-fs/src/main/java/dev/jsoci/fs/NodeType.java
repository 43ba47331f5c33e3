package dev.jsoci.fs;

/** The file type of a node, with its {@code S_IFMT} bits. */
public enum NodeType {
  REGULAR_FILE(0100000),
  DIRECTORY(0040000),
  SYMLINK(0120000),
  CHAR_DEVICE(0020000),
  BLOCK_DEVICE(0060000),
  FIFO(0010000);

  private final int typeBits;

  NodeType(int typeBits) {
    this.typeBits = typeBits;
  }

  /** Returns the {@code S_IFMT} bits of this type as Linux defines them, such as 0100000. */
  public int typeBits() {
    return typeBits;
  }
}
