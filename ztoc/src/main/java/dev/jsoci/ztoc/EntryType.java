package dev.jsoci.ztoc;

/** The kind of a TOC entry, with the text the zTOC stores in its {@code type} field. */
public enum EntryType {
  REGULAR("reg"),
  HARDLINK("hardlink"),
  SYMLINK("symlink"),
  CHAR("char"),
  BLOCK("block"),
  DIRECTORY("dir"),
  FIFO("fifo");

  private final String wireName;

  EntryType(String wireName) {
    this.wireName = wireName;
  }

  /** Returns the zTOC text of this type, such as {@code reg} or {@code dir}. */
  public String wireName() {
    return wireName;
  }

  /**
   * Returns the type whose zTOC text is {@code wireName}.
   *
   * @throws IllegalArgumentException if no type has that text
   */
  public static EntryType fromWireName(String wireName) {
    for (EntryType type : values()) {
      if (type.wireName.equals(wireName)) {
        return type;
      }
    }
    throw new IllegalArgumentException("unknown toc entry type: \"" + wireName + "\"");
  }
}
