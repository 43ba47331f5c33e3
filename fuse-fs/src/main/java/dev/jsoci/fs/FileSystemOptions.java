package dev.jsoci.fs;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Settings of one layer's filesystem.
 *
 * @param readTimeout how long a content read may take before the reading process gets {@code EIO}
 * @param opaqueXattr the xattr that marks opaque directories
 * @param xattrsDisabled whether getxattr returns {@code ENOSYS} for every name, so the kernel stops
 *     calling it; set for layers whose SOCI index annotates {@code
 *     com.amazon.soci.disable-xattrs=true}, which have no xattrs and no opaque directories
 * @param readExecutor runs content reads, or null for a cached pool of daemon threads owned by the
 *     filesystem. A bounded executor must have room for every read in flight, because otherwise
 *     reads wait behind each other
 * @param layerStatus supplies the content of the state file, or null for no state directory
 * @param verifyTarHeaders whether the first read of each regular file first checks the file's tar
 *     header in the layer against its TOC entry, and fails with {@code EIO} on a difference
 * @param listener receives every operation the mount serves, with its duration and error
 * @param logOperations whether every operation is logged at info level with its path, result and
 *     duration
 * @param traceOperations whether every operation is logged so at trace level, when {@code
 *     logOperations} is off and the logger's trace level is enabled
 */
public record FileSystemOptions(
    Duration readTimeout,
    OpaqueXattr opaqueXattr,
    boolean xattrsDisabled,
    @Nullable ExecutorService readExecutor,
    @Nullable Supplier<LayerStatus> layerStatus,
    boolean verifyTarHeaders,
    FileSystemListener listener,
    boolean logOperations,
    boolean traceOperations) {

  /**
   * The default read timeout, 5 minutes: the default whole-request timeout of AWS's
   * soci-snapshotter for layer-data fetches ({@code fetching_timeout_sec}), so a fetcher configured
   * the same way reports its own error first.
   */
  public static final Duration DEFAULT_READ_TIMEOUT = Duration.ofMinutes(5);

  public FileSystemOptions {
    if (readTimeout.isNegative() || readTimeout.isZero()) {
      throw new IllegalArgumentException("readTimeout must be positive: " + readTimeout);
    }
    Objects.requireNonNull(listener, "listener");
  }

  /**
   * Returns the defaults: 5-minute reads, the trusted opaque xattr, xattrs on, no state directory,
   * tar headers verified, no listener.
   */
  public static FileSystemOptions defaults() {
    return builder().build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public Builder toBuilder() {
    return new Builder()
        .readTimeout(readTimeout)
        .opaqueXattr(opaqueXattr)
        .xattrsDisabled(xattrsDisabled)
        .readExecutor(readExecutor)
        .layerStatus(layerStatus)
        .verifyTarHeaders(verifyTarHeaders)
        .listener(listener)
        .logOperations(logOperations)
        .traceOperations(traceOperations);
  }

  /** Builder of {@link FileSystemOptions}; each method sets the record component of its name. */
  public static final class Builder {
    private Duration readTimeout = DEFAULT_READ_TIMEOUT;
    private OpaqueXattr opaqueXattr = OpaqueXattr.TRUSTED;
    private boolean xattrsDisabled;
    private @Nullable ExecutorService readExecutor;
    private @Nullable Supplier<LayerStatus> layerStatus;
    private boolean verifyTarHeaders = true;
    private FileSystemListener listener = FileSystemListener.NONE;
    private boolean logOperations;
    private boolean traceOperations;

    private Builder() {}

    public Builder readTimeout(Duration readTimeout) {
      this.readTimeout = readTimeout;
      return this;
    }

    public Builder opaqueXattr(OpaqueXattr opaqueXattr) {
      this.opaqueXattr = opaqueXattr;
      return this;
    }

    public Builder xattrsDisabled(boolean xattrsDisabled) {
      this.xattrsDisabled = xattrsDisabled;
      return this;
    }

    public Builder readExecutor(@Nullable ExecutorService readExecutor) {
      this.readExecutor = readExecutor;
      return this;
    }

    public Builder layerStatus(@Nullable Supplier<LayerStatus> layerStatus) {
      this.layerStatus = layerStatus;
      return this;
    }

    public Builder verifyTarHeaders(boolean verifyTarHeaders) {
      this.verifyTarHeaders = verifyTarHeaders;
      return this;
    }

    public Builder listener(FileSystemListener listener) {
      this.listener = listener;
      return this;
    }

    public Builder logOperations(boolean logOperations) {
      this.logOperations = logOperations;
      return this;
    }

    public Builder traceOperations(boolean traceOperations) {
      this.traceOperations = traceOperations;
      return this;
    }

    public FileSystemOptions build() {
      return new FileSystemOptions(
          readTimeout,
          opaqueXattr,
          xattrsDisabled,
          readExecutor,
          layerStatus,
          verifyTarHeaders,
          listener,
          logOperations,
          traceOperations);
    }
  }
}
