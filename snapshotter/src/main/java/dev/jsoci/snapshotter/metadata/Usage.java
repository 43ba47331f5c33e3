package dev.jsoci.snapshotter.metadata;

/**
 * Disk usage of a snapshot's own directory.
 *
 * @param sizeBytes bytes of disk blocks used
 * @param inodes distinct inodes
 */
public record Usage(long sizeBytes, long inodes) {
  public static final Usage ZERO = new Usage(0, 0);

  public Usage {
    if (sizeBytes < 0 || inodes < 0) {
      throw new IllegalArgumentException(
          "usage must not be negative: sizeBytes=" + sizeBytes + ", inodes=" + inodes);
    }
  }
}
