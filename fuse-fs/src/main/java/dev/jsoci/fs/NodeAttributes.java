package dev.jsoci.fs;

/**
 * The attributes of a node as {@code stat} reports them. Access and change times are not stored: a
 * layer has no meaningful ones, so they are always the epoch.
 *
 * @param mode the {@code S_IFMT} type bits and the permission, setuid, setgid and sticky bits
 * @param rdev the device number in the Linux {@code makedev} encoding, 0 for non-devices
 * @param sizeBytes the size in bytes
 * @param blocks the size in 512-byte units, rounded up to whole 4096-byte blocks
 * @param blockSizeBytes the preferred I/O size, {@code st_blksize}
 * @param mtimeNanos nanoseconds added to {@code mtimeSeconds}, 0 to 999,999,999
 */
public record NodeAttributes(
    long ino,
    int mode,
    int nlink,
    long uid,
    long gid,
    long rdev,
    long sizeBytes,
    long blocks,
    int blockSizeBytes,
    long mtimeSeconds,
    int mtimeNanos) {}
