package dev.jsoci.fs;

/**
 * The statistics {@code statfs} reports for a layer. A layer is read-only and full, as squashfs and
 * ISO 9660 report themselves: the totals describe its contents and nothing is free.
 *
 * @param blockSizeBytes both {@code f_bsize} and {@code f_frsize}
 * @param blocks the layer's size in blocks of {@code blockSizeBytes}, at least 1
 * @param files the number of inodes, at least 1
 * @param maxNameLength {@code f_namemax}, 255 as on Linux's local filesystems
 */
public record FileSystemStatistics(
    int blockSizeBytes,
    long blocks,
    long freeBlocks,
    long files,
    long freeFiles,
    int maxNameLength) {}
