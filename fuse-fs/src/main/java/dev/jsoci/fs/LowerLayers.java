package dev.jsoci.fs;

import dev.jsoci.ztoc.ByteString;

/**
 * A view of the layers below a layer: the node they show at a path, as their overlay would.
 *
 * <p>A layer's tar often leaves out the parent directories of its files. containerd's unpack then
 * creates each such directory with the mode, owner and times of the directory that the layers below
 * have at that path. {@link LayerTree} looks up in this view each parent directory that the layer
 * does not create, so that its tree gives the same result.
 */
@FunctionalInterface
public interface LowerLayers {
  /**
   * No layers below: parents that a layer leaves out become directories with default attributes.
   */
  LowerLayers NONE = path -> Entry.ABSENT;

  /**
   * Returns the node that the layers below show at {@code path}, a cleaned relative path such as
   * {@code usr/lib}. Failures to read the layers count as {@link Entry#ABSENT}.
   */
  Entry lookup(ByteString path);

  /**
   * The node that the layers below show at a path.
   *
   * @param kind the node's type, as far as a parent directory needs it
   * @param permissions the permission bits of a directory, with setuid, setgid and sticky
   */
  record Entry(Kind kind, int permissions, long uid, long gid, long mtimeSeconds, int mtimeNanos) {

    /** Nothing at the path, or a whiteout that hides it. */
    public static final Entry ABSENT = new Entry(Kind.ABSENT, 0, 0, 0, 0, 0);

    /**
     * A file, symbolic link, device or other node that is not a directory. A parent created over it
     * takes none of its attributes.
     */
    public static final Entry OTHER = new Entry(Kind.OTHER, 0, 0, 0, 0, 0);

    public static Entry directory(
        int permissions, long uid, long gid, long mtimeSeconds, int mtimeNanos) {
      return new Entry(Kind.DIRECTORY, permissions, uid, gid, mtimeSeconds, mtimeNanos);
    }
  }

  /** The kinds of {@link Entry}. */
  enum Kind {
    ABSENT,
    DIRECTORY,
    OTHER
  }
}
