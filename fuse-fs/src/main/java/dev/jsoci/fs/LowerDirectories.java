package dev.jsoci.fs;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import dev.jsoci.ztoc.ByteString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The layers below a layer as the directories overlayfs stacks, the nearest first: unpacked layer
 * directories and lazily mounted ones alike. A path takes its entry from the first directory that
 * has it, and a whiteout (a character device 0/0) or a non-directory parent there hides it in the
 * directories after.
 *
 * <p>NOTE: opaque directories of the layers below are not read, so a path that one of them hides
 * may still be found in a directory further down.
 */
public final class LowerDirectories implements LowerLayers {
  private static final Logger logger = LoggerFactory.getLogger(LowerDirectories.class);

  /** The file type bits of {@code st_mode}, and the types read here. */
  private static final int FILE_TYPE_MASK = 0170000;

  private static final int CHARACTER_DEVICE = 0020000;
  private static final int DIRECTORY = 0040000;

  private final List<Path> directories;

  /**
   * @param directories the lower directories, the nearest (the layer just below) first
   */
  public LowerDirectories(List<Path> directories) {
    this.directories = List.copyOf(directories);
  }

  @Override
  public Entry lookup(ByteString path) {
    List<String> components;
    try {
      components = List.of(path.utf8().split("/"));
    } catch (RuntimeException e) {
      return Entry.ABSENT;
    }
    for (Path directory : directories) {
      try {
        Entry entry = lookup(directory, components);
        if (entry != null) {
          return entry;
        }
      } catch (IOException | RuntimeException e) {
        logger.debug("cannot read a lower layer path={} directory={}", path, directory, e);
        return Entry.ABSENT;
      }
    }
    return Entry.ABSENT;
  }

  /**
   * Returns the entry that {@code directory} shows at the path of {@code components}, {@link
   * Entry#ABSENT} when it hides the path from the directories below, or null when it has nothing
   * there. Symbolic links are never followed: a parent that is one, or is no directory, hides the
   * path, as overlayfs merges only directories.
   */
  private static @Nullable Entry lookup(Path directory, List<String> components)
      throws IOException {
    Path candidate = directory;
    for (int i = 0; i < components.size(); i++) {
      candidate = candidate.resolve(components.get(i));
      Map<String, Object> attributes;
      try {
        attributes =
            Files.readAttributes(
                candidate, "unix:mode,uid,gid,rdev,lastModifiedTime", NOFOLLOW_LINKS);
      } catch (NoSuchFileException e) {
        return null;
      }
      int mode = (Integer) attributes.get("mode");
      int type = mode & FILE_TYPE_MASK;
      boolean whiteout = type == CHARACTER_DEVICE && (Long) attributes.get("rdev") == 0;
      if (whiteout) {
        return Entry.ABSENT;
      }
      if (i < components.size() - 1) {
        if (type != DIRECTORY) {
          return Entry.ABSENT;
        }
        continue;
      }
      if (type != DIRECTORY) {
        return Entry.OTHER;
      }
      long nanos = ((FileTime) attributes.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS);
      return Entry.directory(
          mode & 07777,
          ((Integer) attributes.get("uid")).longValue(),
          ((Integer) attributes.get("gid")).longValue(),
          Math.floorDiv(nanos, 1_000_000_000L),
          (int) Math.floorMod(nanos, 1_000_000_000L));
    }
    return null;
  }
}
