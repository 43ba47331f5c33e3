package dev.jsoci.fs.fuse;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The options of one layer's FUSE mount.
 *
 * <p>Every mount is read-only ({@code ro}), caches file pages across opens ({@code kernel_cache},
 * layers never change), reports the layer's inode numbers ({@code use_ino}), allows setuid programs
 * ({@code suid}; libfuse 2 mounts {@code nosuid} otherwise, which would break {@code su} and {@code
 * ping} in containers) and reads at most 128 KiB per request ({@code max_read}).
 *
 * @param fsname the mount's source in {@code /proc/self/mountinfo}, usually the layer digest
 * @param subtype the type suffix: the mount's type is {@code fuse.<subtype>}
 * @param entryTimeout how long the kernel caches a name lookup
 * @param attrTimeout how long the kernel caches attributes
 * @param negativeTimeout how long the kernel caches that a name does not exist
 * @param allowOther whether users other than the mounting one may access the mount ({@code
 *     allow_other}); containers' users need it
 * @param defaultPermissions whether the kernel checks permission bits itself ({@code
 *     default_permissions}); the filesystem does not check them
 * @param mountTimeout how long {@link FuseMount#mount} waits for the kernel's first request
 * @param unmountTimeout how long {@link FuseMount#close} waits for {@code fusermount} and for the
 *     FUSE session to end
 */
public record MountOptions(
    String fsname,
    String subtype,
    Duration entryTimeout,
    Duration attrTimeout,
    Duration negativeTimeout,
    boolean allowOther,
    boolean defaultPermissions,
    Duration mountTimeout,
    Duration unmountTimeout) {

  /** Default for the three cache timeouts: an hour, since a layer's contents never change. */
  public static final Duration DEFAULT_CACHE_TIMEOUT = Duration.ofHours(1);

  /** Default subtype, giving mounts the type {@code fuse.jsoci}. */
  public static final String DEFAULT_SUBTYPE = "jsoci";

  /** Largest read request, in bytes; the kernel's default maximum. */
  private static final int MAX_READ_BYTES = 128 * 1024;

  public MountOptions {
    checkOptionValue("fsname", fsname);
    checkOptionValue("subtype", subtype);
    checkNotNegative("entryTimeout", entryTimeout);
    checkNotNegative("attrTimeout", attrTimeout);
    checkNotNegative("negativeTimeout", negativeTimeout);
    checkPositive("mountTimeout", mountTimeout);
    checkPositive("unmountTimeout", unmountTimeout);
  }

  private static void checkOptionValue(String name, String value) {
    // libfuse splits options at commas and unescapes backslashes.
    if (value.isEmpty() || value.chars().anyMatch(c -> c == ',' || c == '\\' || c <= ' ')) {
      throw new IllegalArgumentException(
          name + " must be non-empty, without commas, backslashes or spaces: \"" + value + "\"");
    }
  }

  private static void checkNotNegative(String name, Duration value) {
    if (value.isNegative()) {
      throw new IllegalArgumentException(name + " must not be negative: " + value);
    }
  }

  private static void checkPositive(String name, Duration value) {
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive: " + value);
    }
  }

  /** Returns a builder with the defaults and the given {@code fsname}. */
  public static Builder builder(String fsname) {
    return new Builder(fsname);
  }

  public Builder toBuilder() {
    return new Builder(fsname)
        .subtype(subtype)
        .entryTimeout(entryTimeout)
        .attrTimeout(attrTimeout)
        .negativeTimeout(negativeTimeout)
        .allowOther(allowOther)
        .defaultPermissions(defaultPermissions)
        .mountTimeout(mountTimeout)
        .unmountTimeout(unmountTimeout);
  }

  /** Returns the options for libfuse's {@code -o}, in the order libfuse receives them. */
  public List<String> fuseOptions() {
    List<String> options = new ArrayList<>();
    options.add("ro");
    if (allowOther) {
      options.add("allow_other");
    }
    if (defaultPermissions) {
      options.add("default_permissions");
    }
    options.add("kernel_cache");
    options.add("use_ino");
    options.add("suid");
    options.add("fsname=" + fsname);
    options.add("subtype=" + subtype);
    options.add("entry_timeout=" + seconds(entryTimeout));
    options.add("attr_timeout=" + seconds(attrTimeout));
    options.add("negative_timeout=" + seconds(negativeTimeout));
    options.add("max_read=" + MAX_READ_BYTES);
    return options;
  }

  private static String seconds(Duration duration) {
    return BigDecimal.valueOf(duration.toMillis(), 3).stripTrailingZeros().toPlainString();
  }

  /** Builder of {@link MountOptions}; each method sets the record component of its name. */
  public static final class Builder {
    private final String fsname;
    private String subtype = DEFAULT_SUBTYPE;
    private Duration entryTimeout = DEFAULT_CACHE_TIMEOUT;
    private Duration attrTimeout = DEFAULT_CACHE_TIMEOUT;
    private Duration negativeTimeout = DEFAULT_CACHE_TIMEOUT;
    private boolean allowOther = true;
    private boolean defaultPermissions = true;
    private Duration mountTimeout = Duration.ofSeconds(30);
    private Duration unmountTimeout = Duration.ofSeconds(30);

    private Builder(String fsname) {
      this.fsname = fsname;
    }

    public Builder subtype(String subtype) {
      this.subtype = subtype;
      return this;
    }

    public Builder entryTimeout(Duration entryTimeout) {
      this.entryTimeout = entryTimeout;
      return this;
    }

    public Builder attrTimeout(Duration attrTimeout) {
      this.attrTimeout = attrTimeout;
      return this;
    }

    public Builder negativeTimeout(Duration negativeTimeout) {
      this.negativeTimeout = negativeTimeout;
      return this;
    }

    public Builder allowOther(boolean allowOther) {
      this.allowOther = allowOther;
      return this;
    }

    public Builder defaultPermissions(boolean defaultPermissions) {
      this.defaultPermissions = defaultPermissions;
      return this;
    }

    public Builder mountTimeout(Duration mountTimeout) {
      this.mountTimeout = mountTimeout;
      return this;
    }

    public Builder unmountTimeout(Duration unmountTimeout) {
      this.unmountTimeout = unmountTimeout;
      return this;
    }

    public MountOptions build() {
      return new MountOptions(
          fsname,
          subtype,
          entryTimeout,
          attrTimeout,
          negativeTimeout,
          allowOther,
          defaultPermissions,
          mountTimeout,
          unmountTimeout);
    }
  }
}
