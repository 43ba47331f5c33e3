package dev.jsoci.fs.fuse;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jnr.ffi.BaseStruct;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.Delegate;
import jnr.ffi.provider.ClosureManager;
import jnr.ffi.provider.jffi.ClosureHelper;
import jnr.ffi.types.off_t;
import jnr.ffi.types.size_t;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.FuseOperations;
import ru.serce.jnrfuse.struct.Statvfs;

/**
 * Replaces the libfuse callbacks that look paths up with ones that decode each path as ISO-8859-1.
 * That charset maps every byte to one char and back, so file names that are not valid in the JVM's
 * default charset reach the layer unchanged.
 *
 * <p>jnr-fuse's own callbacks decode paths with the JVM's default charset. Two names that differ
 * only in bytes invalid in that charset, such as {@code a\xff} and {@code a\xfe} under UTF-8, then
 * arrive as the same string, and with the US-ASCII default of JDK 17 in the C locale (as under
 * systemd) every non-ASCII name does.
 */
final class BytePathCallbacks {
  /** The charset the replaced callbacks decode paths and xattr names with. */
  static final Charset PATH_CHARSET = StandardCharsets.ISO_8859_1;

  private BytePathCallbacks() {}

  @FunctionalInterface
  public interface GetAttr {
    @Delegate
    int getattr(Pointer path, Pointer stat);
  }

  @FunctionalInterface
  public interface FGetAttr {
    @Delegate
    int fgetattr(Pointer path, Pointer stat, Pointer fileInfo);
  }

  @FunctionalInterface
  public interface ReadLink {
    @Delegate
    int readlink(Pointer path, Pointer buffer, @size_t long size);
  }

  @FunctionalInterface
  public interface Open {
    @Delegate
    int open(Pointer path, Pointer fileInfo);
  }

  @FunctionalInterface
  public interface Read {
    @Delegate
    int read(Pointer path, Pointer buffer, @size_t long size, @off_t long offset, Pointer fileInfo);
  }

  @FunctionalInterface
  public interface StatFs {
    @Delegate
    int statfs(Pointer path, Pointer statvfs);
  }

  @FunctionalInterface
  public interface OpenDir {
    @Delegate
    int opendir(Pointer path, Pointer fileInfo);
  }

  @FunctionalInterface
  public interface ReadDir {
    @Delegate
    int readdir(Pointer path, Pointer buffer, Pointer filler, @off_t long offset, Pointer fileInfo);
  }

  @FunctionalInterface
  public interface GetXattr {
    @Delegate
    int getxattr(Pointer path, Pointer name, Pointer value, @size_t long size);
  }

  @FunctionalInterface
  public interface ListXattr {
    @Delegate
    int listxattr(Pointer path, Pointer list, @size_t long size);
  }

  @FunctionalInterface
  public interface Access {
    @Delegate
    int access(Pointer path, int mask);
  }

  /**
   * Writes the replacement callbacks into {@code operations}, which jnr-fuse has filled for
   * {@code adapter}, and returns them. The caller must keep the list reachable for as long as
   * libfuse may call them, since the native closures do not keep their Java objects alive.
   */
  static List<Object> install(LayerFuseAdapter adapter, FuseOperations operations) {
    ClosureManager closures = jnr.ffi.Runtime.getSystemRuntime().getClosureManager();
    List<Object> installed = new ArrayList<>();
    Installer installer = new Installer(closures, installed);

    installer.put(
        operations.getattr,
        GetAttr.class,
        (GetAttr) (path, stat) -> adapter.getattr(decode(path), FileStat.of(stat)));
    installer.put(
        operations.fgetattr,
        FGetAttr.class,
        (FGetAttr)
            (path, stat, info) ->
                adapter.fgetattr(decode(path), FileStat.of(stat), FuseFileInfo.of(info)));
    installer.put(
        operations.readlink,
        ReadLink.class,
        (ReadLink) (path, buffer, size) -> adapter.readlink(decode(path), buffer, size));
    installer.put(
        operations.open,
        Open.class,
        (Open) (path, info) -> adapter.open(decode(path), FuseFileInfo.of(info)));
    installer.put(
        operations.read,
        Read.class,
        (Read)
            (path, buffer, size, offset, info) ->
                adapter.read(decode(path), buffer, size, offset, FuseFileInfo.of(info)));
    installer.put(
        operations.statfs,
        StatFs.class,
        (StatFs) (path, statvfs) -> adapter.statfs(decode(path), Statvfs.of(statvfs)));
    installer.put(
        operations.opendir,
        OpenDir.class,
        (OpenDir) (path, info) -> adapter.opendir(decode(path), FuseFileInfo.of(info)));
    installer.put(
        operations.readdir,
        ReadDir.class,
        (ReadDir)
            (path, buffer, filler, offset, info) ->
                adapter.readdir(
                    decode(path), buffer, fillerOf(filler), offset, FuseFileInfo.of(info)));
    installer.put(
        operations.getxattr,
        GetXattr.class,
        (GetXattr)
            (path, name, value, size) -> adapter.getxattr(decode(path), decode(name), value, size));
    installer.put(
        operations.listxattr,
        ListXattr.class,
        (ListXattr) (path, list, size) -> adapter.listxattr(decode(path), list, size));
    installer.put(
        operations.access,
        Access.class,
        (Access) (path, mask) -> adapter.access(decode(path), mask));
    return installed;
  }

  /** Writes closure pointers over jnr-fuse's at the same struct offsets. */
  private record Installer(ClosureManager closures, List<Object> installed) {
    <T> void put(BaseStruct.Func<?> field, Class<T> type, T callback) {
      Pointer closure = closures.getClosurePointer(type, callback);
      field.getMemory().putPointer(field.offset(), closure);
      installed.add(callback);
      installed.add(closure);
    }
  }

  /**
   * Returns the bytes of a NUL-terminated C string as ISO-8859-1 text, one char per byte. libfuse
   * joins the names from the root into one path, which can be longer than PATH_MAX when a process
   * walks down with relative opens, so the length is not capped here.
   */
  static String decode(Pointer string) {
    return string.getString(0, Integer.MAX_VALUE, PATH_CHARSET);
  }

  /** Wraps libfuse's filler function pointer as jnr-fuse's own readdir callback does. */
  private static FuseFillDir fillerOf(Pointer filler) {
    ClosureHelper helper = ClosureHelper.getInstance();
    return (FuseFillDir)
        helper
            .getNativeConveter(FuseFillDir.class)
            .fromNative(filler, helper.getFromNativeContext());
  }
}
