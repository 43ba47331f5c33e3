package dev.jsoci.fs.fuse;

import dev.jsoci.fs.ByteArrayContentReader;
import dev.jsoci.fs.ContentReader;
import dev.jsoci.fs.FileSystemOptions;
import dev.jsoci.fs.LayerFileSystem;
import dev.jsoci.fs.LayerTree;
import dev.jsoci.ztoc.Ztoc;
import dev.jsoci.ztoc.ZtocBuilder;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A layer made by GNU tar from a directory: the uncompressed tar, its zTOC built with 64 KiB spans,
 * and the tree the filesystem builds from it.
 */
final class TestLayer {
  static final Path GNU_TAR = Path.of("/usr/bin/tar");

  final String name;
  final Path tarFile;
  final byte[] tar;
  final Ztoc ztoc;
  final LayerTree tree;

  private TestLayer(String name, Path tarFile, byte[] tar, Ztoc ztoc, LayerTree tree) {
    this.name = name;
    this.tarFile = tarFile;
    this.tar = tar;
    this.ztoc = ztoc;
    this.tree = tree;
  }

  /** Archives the whole of {@code source} as {@code tar --format=posix --xattrs -C source .}. */
  static TestLayer fromDirectory(String name, Path source, Path tarFile) throws Exception {
    Commands.run(
        GNU_TAR.toString(),
        "--format=posix",
        "--xattrs",
        "-cf",
        tarFile.toString(),
        "-C",
        source.toString(),
        ".");
    return fromTar(name, tarFile);
  }

  /**
   * Archives the given paths of {@code source}, relative to it, in exactly this order and without
   * recursing into directories.
   */
  static TestLayer fromPaths(String name, Path source, List<String> paths, Path tarFile)
      throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                GNU_TAR.toString(),
                "--format=posix",
                "--xattrs",
                "--no-recursion",
                "-cf",
                tarFile.toString(),
                "-C",
                source.toString()));
    command.addAll(paths);
    Commands.run(command.toArray(String[]::new));
    return fromTar(name, tarFile);
  }

  static TestLayer fromTar(String name, Path tarFile) throws Exception {
    byte[] tar = Files.readAllBytes(tarFile);
    Ztoc ztoc = new ZtocBuilder(65536, "test").build(new ByteArrayInputStream(tar), name);
    return new TestLayer(name, tarFile, tar, ztoc, LayerTree.of(ztoc, name));
  }

  ContentReader contentReader() {
    return new ByteArrayContentReader(tar);
  }

  LayerFileSystem fileSystem(FileSystemOptions options) {
    return new LayerFileSystem(tree, contentReader(), options);
  }

  LayerFileSystem fileSystem(ContentReader reader, FileSystemOptions options) {
    return new LayerFileSystem(tree, reader, options);
  }

  /** Extracts the layer with GNU tar as root would: owners, modes, xattrs of every namespace. */
  void extractTo(Path directory) throws Exception {
    Files.createDirectories(directory);
    Commands.run(
        GNU_TAR.toString(),
        "--xattrs",
        "--xattrs-include=*",
        "--numeric-owner",
        "--same-owner",
        "-xpf",
        tarFile.toString(),
        "-C",
        directory.toString());
  }
}
