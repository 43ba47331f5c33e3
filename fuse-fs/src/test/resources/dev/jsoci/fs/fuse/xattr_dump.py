"""Prints every extended attribute under a directory tree, one sorted line per attribute.

Usage: xattr_dump.py ROOT

Each line is "<path relative to ROOT, hex> <attribute name> <value, hex>". Symbolic links are
not followed, so a link's own attributes are listed.
"""
import os
import sys


def main():
    root = os.fsencode(sys.argv[1])
    lines = []
    paths = [root]
    for directory, subdirectories, files in os.walk(root, followlinks=False):
        for name in subdirectories + files:
            paths.append(os.path.join(directory, name))
    for path in paths:
        relative = os.path.relpath(path, root)
        for name in os.listxattr(path, follow_symlinks=False):
            value = os.getxattr(path, name, follow_symlinks=False)
            lines.append("%s %s %s" % (relative.hex(), name, value.hex()))
    for line in sorted(lines):
        print(line)


main()
