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
import ru.serce.jnrfuse.FuseCallbacks;
import ru.serce.jnrfuse.FuseFillDir;
import ru.serce.jnrfuse.struct.FileStat;
import ru.serce.jnrfuse.struct.FuseFileInfo;
import ru.serce.jnrfuse.struct.FuseOperations;
import ru.serce.jnrfuse.struct.Statvfs;
import ru.serce.jnrfuse.struct.Timespec;

/**
 * Fills libfuse's {@code struct fuse_operations} for one {@link LayerFuseAdapter}. The callbacks
 * that look paths up decode each path as ISO-8859-1. That charset maps every byte to one char and
 * back, so file names that are not valid in the JVM's default charset reach the layer unchanged.
 *
 * <p>jnr-fuse's callback types decode paths with the JVM's default charset. Two names that differ
 * only in bytes invalid in that charset, such as {@code a\xff} and {@code a\xfe} under UTF-8, then
 * arrive as the same string, and with the US-ASCII default of JDK 17 in the C locale (as under
 * systemd) every non-ASCII name does. Only the mutations, which fail with {@code EROFS} whatever
 * the path, use those types.
 *
 * <p>jnr-fuse's {@code AbstractFuseFS} fills the same table, but its constructor also loads libfuse
 * through a {@code LibraryLoader}, which generates and compiles a class for every instance: 13-33
 * ms of each mount on a 2-core machine. The session loop never calls that library.
 */
final class CallbackTable {
  /** The charset the replaced callbacks decode paths and xattr names with. */
  static final Charset PATH_CHARSET = StandardCharsets.ISO_8859_1;

  private CallbackTable() {}

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
   * Writes the callbacks of {@code adapter} into {@code operations}, a zeroed table, and returns
   * them. The caller must keep the list reachable for as long as libfuse may call them, since the
   * native closures do not keep their Java objects alive. The entries left null get libfuse's
   * defaults: release and releasedir succeed, locks stay local to the kernel, and the rest fail
   * with {@code ENOSYS}.
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
    installer.put(
        operations.init,
        FuseCallbacks.InitCallback.class,
        (FuseCallbacks.InitCallback) adapter::init);
    installer.put(
        operations.destroy,
        FuseCallbacks.DestroyCallback.class,
        (FuseCallbacks.DestroyCallback) adapter::destroy);
    installMutations(adapter, installer, operations);
    return installed;
  }

  /** Installs the callbacks that would change the layer, which all fail with EROFS. */
  private static void installMutations(
      LayerFuseAdapter adapter, Installer installer, FuseOperations operations) {
    installer.put(
        operations.mknod,
        FuseCallbacks.MknodCallback.class,
        (FuseCallbacks.MknodCallback) adapter::mknod);
    installer.put(
        operations.mkdir,
        FuseCallbacks.MkdirCallback.class,
        (FuseCallbacks.MkdirCallback) adapter::mkdir);
    installer.put(
        operations.unlink,
        FuseCallbacks.UnlinkCallback.class,
        (FuseCallbacks.UnlinkCallback) adapter::unlink);
    installer.put(
        operations.rmdir,
        FuseCallbacks.RmdirCallback.class,
        (FuseCallbacks.RmdirCallback) adapter::rmdir);
    installer.put(
        operations.symlink,
        FuseCallbacks.SymlinkCallback.class,
        (FuseCallbacks.SymlinkCallback) adapter::symlink);
    installer.put(
        operations.rename,
        FuseCallbacks.RenameCallback.class,
        (FuseCallbacks.RenameCallback) adapter::rename);
    installer.put(
        operations.link,
        FuseCallbacks.LinkCallback.class,
        (FuseCallbacks.LinkCallback) adapter::link);
    installer.put(
        operations.chmod,
        FuseCallbacks.ChmodCallback.class,
        (FuseCallbacks.ChmodCallback) adapter::chmod);
    installer.put(
        operations.chown,
        FuseCallbacks.ChownCallback.class,
        (FuseCallbacks.ChownCallback) adapter::chown);
    installer.put(
        operations.truncate,
        FuseCallbacks.TruncateCallback.class,
        (FuseCallbacks.TruncateCallback) adapter::truncate);
    installer.put(
        operations.ftruncate,
        FuseCallbacks.FtruncateCallback.class,
        (FuseCallbacks.FtruncateCallback)
            (path, size, info) -> adapter.ftruncate(path, size, FuseFileInfo.of(info)));
    installer.put(
        operations.write,
        FuseCallbacks.WriteCallback.class,
        (FuseCallbacks.WriteCallback)
            (path, buffer, size, offset, info) ->
                adapter.write(path, buffer, size, offset, FuseFileInfo.of(info)));
    installer.put(
        operations.create,
        FuseCallbacks.CreateCallback.class,
        (FuseCallbacks.CreateCallback)
            (path, mode, info) -> adapter.create(path, mode, FuseFileInfo.of(info)));
    installer.put(
        operations.setxattr,
        FuseCallbacks.SetxattrCallback.class,
        (FuseCallbacks.SetxattrCallback) adapter::setxattr);
    installer.put(
        operations.removexattr,
        FuseCallbacks.RemovexattrCallback.class,
        (FuseCallbacks.RemovexattrCallback) adapter::removexattr);
    installer.put(
        operations.utimens,
        FuseCallbacks.UtimensCallback.class,
        // The call fails whatever the times are, so they are not read.
        (FuseCallbacks.UtimensCallback) (path, times) -> adapter.utimens(path, new Timespec[0]));
    installer.put(
        operations.fallocate,
        FuseCallbacks.FallocateCallback.class,
        (FuseCallbacks.FallocateCallback)
            (path, mode, offset, length, info) ->
                adapter.fallocate(path, mode, offset, length, FuseFileInfo.of(info)));
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
