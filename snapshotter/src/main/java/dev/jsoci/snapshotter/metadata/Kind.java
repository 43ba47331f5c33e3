package dev.jsoci.snapshotter.metadata;

/** The kind of a snapshot; the numbers are containerd's wire and storage values. */
public enum Kind {
  VIEW(1, "view"),
  ACTIVE(2, "active"),
  COMMITTED(3, "committed");

  private final int number;
  private final String filterName;

  Kind(int number, String filterName) {
    this.number = number;
    this.filterName = filterName;
  }

  /** Returns containerd's number for this kind (the {@code Kind} enum of the snapshots API). */
  public int number() {
    return number;
  }

  /** Returns the name that List filters compare with, as in {@code kind==committed}. */
  public String filterName() {
    return filterName;
  }

  static Kind fromNumber(int number) {
    for (Kind kind : values()) {
      if (kind.number == number) {
        return kind;
      }
    }
    throw new IllegalArgumentException("unknown snapshot kind number: " + number);
  }
}
